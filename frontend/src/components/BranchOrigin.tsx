import { GitBranch } from 'lucide-react';

import type { SessionOut } from '../api/client';
import { branchPointLabel, isBranch } from '../lib/branches';

/** "Branch of <parent title> · from round 1", the parent a link to it (the session header). */
export function BranchOrigin({ session, parent, onOpen }: { session: SessionOut; parent: SessionOut | null; onOpen: (id: string) => void }) {
  if (!isBranch(session)) return null;
  const parentId = session.parent_id;
  const where = branchPointLabel(session.branch_point);
  return (
    <p className="flex min-w-0 items-center gap-1 truncate text-xs text-zinc-500" data-testid="branch-origin">
      <GitBranch aria-hidden className="size-3.5 shrink-0" />
      <span className="shrink-0">Branch of</span>{' '}
      {parentId ? (
        <a
          href={`/s/${parentId}`}
          onClick={(e) => {
            if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
            e.preventDefault();
            onOpen(parentId);
          }}
          className="min-w-0 truncate font-medium text-indigo-600 hover:underline dark:text-indigo-400"
          data-testid="branch-parent-link"
        >
          {parent?.title ?? 'its parent session'}
        </a>
      ) : (
        <span className="min-w-0 truncate">a deleted session</span>
      )}
      {where && <span className="shrink-0"> · {where}</span>}
    </p>
  );
}

/** At the top of a branch's conversation: where it starts, and how to take it another way. */
export function BranchIntro({ session, parent, onOpen }: { session: SessionOut; parent: SessionOut | null; onOpen: (id: string) => void }) {
  const where = branchPointLabel(session.branch_point);
  return (
    <div className="rounded-xl border border-violet-200 bg-violet-50/60 px-4 py-3 text-sm text-violet-950 dark:border-violet-500/20 dark:bg-violet-500/5 dark:text-violet-100" data-testid="branch-intro">
      <p className="flex items-center gap-2 font-medium">
        <GitBranch aria-hidden className="size-4 shrink-0" />
        <span>
          A branch of{' '}
          {session.parent_id ? (
            <button type="button" onClick={() => onOpen(session.parent_id ?? '')} className="font-semibold underline decoration-violet-300 underline-offset-2 hover:decoration-violet-600">
              {parent?.title ?? 'its parent session'}
            </button>
          ) : (
            'a session since deleted'
          )}
          {where ? `, ${where}` : ''}
        </span>
      </p>
      <p className="mt-1 text-violet-900/80 dark:text-violet-200/80">
        It starts from the story as it was there; the parent stays as it is. Send a note below (e.g. “make it darker”) to take this branch another way, or
        regenerate a stage from the Team panel.
      </p>
    </div>
  );
}
