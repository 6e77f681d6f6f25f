/** An archived session (retention, or its owner): read-only until unarchived. Its badge, and the
 * Unarchive button of the session header; the sidebar item's menu archives and unarchives too. */
import { Archive, ArchiveRestore } from 'lucide-react';
import { useState } from 'react';

import { api, type Api, type SessionOut } from '../api/client';
import { cx, fullTime } from '../lib/format';
import { Button, Spinner } from './ui';

/** The composer's one line while the session is archived. */
export const ARCHIVED_REASON = 'This session is archived: you can read and download it, or branch from it. Unarchive it to send messages or change the pitch.';

export function isArchived(session: Pick<SessionOut, 'archived_at'> | null | undefined): boolean {
  return Boolean(session?.archived_at);
}

export function ArchivedBadge({ archivedAt, className }: { archivedAt: string; className?: string }) {
  return (
    <span
      data-testid="archived-badge"
      title={`Archived ${fullTime(archivedAt)}: read-only until unarchived`}
      className={cx(
        'inline-flex items-center gap-1 rounded-full bg-amber-50 px-1.5 py-0.5 text-[0.6875rem] leading-none font-medium text-amber-800 ring-1 ring-amber-600/20 ring-inset dark:bg-amber-500/10 dark:text-amber-300 dark:ring-amber-400/30',
        className,
      )}
    >
      <Archive aria-hidden className="size-3" />
      Archived
    </span>
  );
}

/** Makes the session active again; a refusal shows the server's message beside the button. */
export function UnarchiveButton({ sessionId, onUnarchived, client = api }: { sessionId: string; onUnarchived: (session: SessionOut) => void; client?: Pick<Api, 'unarchiveSession'> }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const unarchive = async () => {
    setBusy(true);
    setError(null);
    try {
      onUnarchived(await client.unarchiveSession(sessionId));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="inline-flex min-w-0 items-center gap-2">
      {error && (
        <span role="alert" className="max-w-56 truncate text-xs text-rose-600 dark:text-rose-400" title={error} data-testid="unarchive-error">
          {error}
        </span>
      )}
      <Button size="sm" variant="secondary" icon={busy ? undefined : ArchiveRestore} onClick={() => void unarchive()} disabled={busy} title="Make this session active again" data-testid="unarchive-button">
        {busy && <Spinner className="size-3.5" />}
        Unarchive
      </Button>
    </span>
  );
}
