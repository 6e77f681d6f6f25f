import { RefreshCw } from 'lucide-react';

import type { RunOut, Stage } from '../api/client';
import { useAction } from '../hooks/useAction';
import type { Outcome } from '../stream/useSession';
import { GuardedButton, Spinner } from './ui';

const WHAT: Record<Stage, string> = {
  writers_room: "The writers' room drafts again from the current outline; box office, casting and the document follow the new draft.",
  box_office: 'The box-office analyst writes a new report; everything else stays.',
  casting: 'The casting director writes new casting ideas; everything else stays.',
  document: 'The file writer saves the next version of the pitch document from the current state.',
};

export const STAGE_NAME: Record<Stage, string> = {
  writers_room: "the writers' room",
  box_office: 'the box-office report',
  casting: 'the casting report',
  document: 'the pitch document',
};

/** Runs one stage again: the result is the next version, earlier ones stay. */
export function RegenerateButton({
  stage,
  onRegenerate,
  disabledReason,
  label = 'Regenerate',
  compact = false,
  side = 'bottom',
}: {
  stage: Stage;
  onRegenerate: (stage: Stage) => Promise<Outcome<RunOut>>;
  disabledReason?: string | null;
  label?: string;
  /** The icon alone (its name is the button's label and tooltip). */
  compact?: boolean;
  /** Where the reason it waits shows: under the button, or over it near the bottom of the panel. */
  side?: 'top' | 'bottom';
}) {
  const { busy, error, run } = useAction(onRegenerate);
  const click = () => run(stage);
  return (
    <span className="inline-flex flex-col items-end gap-1">
      <GuardedButton
        size="sm"
        variant="ghost"
        icon={busy ? undefined : RefreshCw}
        onClick={() => void click()}
        disabledReason={disabledReason ?? (busy ? 'Starting…' : null)}
        side={side}
        aria-label={`Regenerate ${STAGE_NAME[stage]}`}
        title={disabledReason ? undefined : `Regenerate ${STAGE_NAME[stage]}. ${WHAT[stage]}`}
        className={compact ? 'px-1.5' : undefined}
        data-testid={`regenerate-${stage}`}
      >
        {busy && <Spinner className="size-3.5" />}
        {!compact && label}
      </GuardedButton>
      {error && (
        <span role="alert" className="max-w-64 text-right text-xs font-normal text-rose-600 normal-case dark:text-rose-400" data-testid="regenerate-error">
          {error}
        </span>
      )}
    </span>
  );
}
