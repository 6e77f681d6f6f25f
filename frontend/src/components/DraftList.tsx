import { ChevronRight, FileDown } from 'lucide-react';
import { useState } from 'react';

import { draftUrl, type BranchIn, type SessionOut } from '../api/client';
import { draftName } from '../hooks/useVersions';
import { clockTime, cx } from '../lib/format';
import type { Draft } from '../stream/types';
import type { Outcome } from '../stream/useSession';
import { BranchButton } from './BranchButton';
import { Markdown } from './Markdown';

/** Every outline draft of the session, newest first: read it, download it, or branch from it. */
export function DraftList({
  sessionId,
  drafts,
  rounds,
  onBranch,
  branchDisabledReason,
}: {
  sessionId?: string;
  drafts: Draft[];
  rounds: Map<number, number>;
  onBranch?: (point: BranchIn) => Promise<Outcome<SessionOut>>;
  branchDisabledReason?: string | null;
}) {
  const [open, setOpen] = useState<number | null>(null);
  const rows = drafts.map((draft, index) => ({ draft, index })).reverse();
  return (
    <ol className="divide-y divide-zinc-100 rounded-xl border border-zinc-200 bg-white dark:divide-zinc-800 dark:border-zinc-800 dark:bg-zinc-900" data-testid="draft-list">
      {rows.map(({ draft, index }) => {
        const expanded = open === draft.version;
        return (
          <li key={draft.version} data-testid="draft" data-version={draft.version} data-agent={draft.agent ?? undefined}>
            <div className="flex flex-wrap items-center gap-x-2 gap-y-1 px-3 py-1.5">
              <button
                type="button"
                onClick={() => setOpen(expanded ? null : draft.version)}
                aria-expanded={expanded}
                className="flex min-w-0 flex-1 basis-48 items-start gap-1.5 text-left text-sm"
                data-testid="draft-toggle"
              >
                <ChevronRight aria-hidden className={cx('mt-0.5 size-4 shrink-0 text-zinc-400 transition-transform', expanded && 'rotate-90')} />
                <span className="min-w-0">
                  <span className="font-medium" data-testid="draft-label">
                    {draftName(index, draft.agent, rounds.get(draft.version), draft.version)}
                  </span>
                  {draft.at && <span className="text-xs text-zinc-500"> · {clockTime(draft.at)}</span>}
                </span>
              </button>
              <span className="ml-auto flex items-center gap-1">
                {sessionId && (
                  <a
                    href={draftUrl(sessionId, draft.version)}
                    download
                    className="inline-flex h-7 items-center gap-1 rounded-lg px-2 text-xs font-medium text-zinc-600 hover:bg-zinc-100 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-zinc-100"
                    aria-label={`Download draft ${index + 1} as Markdown`}
                    data-testid="draft-download"
                  >
                    <FileDown aria-hidden className="size-3.5" /> .md
                  </a>
                )}
                {onBranch && (
                  <BranchButton
                    point={{ from_version: draft.version }}
                    onBranch={onBranch}
                    disabledReason={branchDisabledReason}
                    title={`draft ${index + 1} (version ${draft.version})`}
                    testId="draft-branch"
                  />
                )}
              </span>
            </div>
            {expanded && (
              <div className="border-t border-zinc-100 px-4 py-3 dark:border-zinc-800" data-testid="draft-text">
                <Markdown text={draft.text} className="md-sm" />
              </div>
            )}
          </li>
        );
      })}
    </ol>
  );
}
