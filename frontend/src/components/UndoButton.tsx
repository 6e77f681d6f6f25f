import { Undo2 } from 'lucide-react';
import { useState } from 'react';

import type { UndoOut } from '../api/client';
import type { Outcome } from '../stream/useSession';
import { ActionMessage, GuardedButton, Spinner } from './ui';

const UNDID: Record<string, string> = {
  edit: 'your edit by hand',
  regenerate: 'the regeneration',
};

type Said = { tone: 'success' | 'info' | 'error'; text: string };

/** "Undo last revision": takes back the last revision, regeneration or edit, in place. Nothing is
 * deleted (earlier document versions stay downloadable); nothing left to undo is said gently. */
export function UndoButton({ onUndo, disabledReason }: { onUndo: () => Promise<Outcome<UndoOut>>; disabledReason?: string | null }) {
  const [busy, setBusy] = useState(false);
  const [said, setSaid] = useState<Said | null>(null);
  const click = async () => {
    setBusy(true);
    setSaid(null);
    const outcome = await onUndo();
    setBusy(false);
    if (outcome.ok) {
      const what = UNDID[outcome.value.undid_kind] ?? 'the last revision';
      setSaid({
        tone: 'success',
        text: `Undid ${what}: the pitch is back to how it was before it (state v${outcome.value.restored_version}). Nothing is deleted: every document version stays in Documents.`,
      });
    } else if (outcome.code === 'nothing_to_undo') {
      setSaid({ tone: 'info', text: `Nothing to undo. ${outcome.message}` });
    } else {
      setSaid({ tone: 'error', text: outcome.message });
    }
  };
  return (
    <>
      <GuardedButton size="sm" icon={busy ? undefined : Undo2} onClick={() => void click()} disabledReason={disabledReason ?? (busy ? 'Undoing…' : null)} align="left" data-testid="undo-button">
        {busy && <Spinner className="size-3.5" />}
        Undo last revision
      </GuardedButton>
      {said && (
        <div className="basis-full">
          <ActionMessage tone={said.tone} testId="undo-message" onDismiss={() => setSaid(null)}>
            {said.text}
          </ActionMessage>
        </div>
      )}
    </>
  );
}
