import { diffWords } from 'diff';
import { useMemo } from 'react';

/** Word-level changes from one outline draft to another: additions green, removals struck red. */
export function DraftDiff({ from, to }: { from: string; to: string }) {
  const parts = useMemo(() => diffWords(from, to), [from, to]);
  const added = parts.filter((p) => p.added).reduce((n, p) => n + p.count, 0);
  const removed = parts.filter((p) => p.removed).reduce((n, p) => n + p.count, 0);
  return (
    <div data-testid="draft-diff">
      <p className="mb-2 text-xs text-zinc-500">
        <span className="font-medium text-emerald-700 dark:text-emerald-400">+{added}</span> words ·{' '}
        <span className="font-medium text-rose-700 dark:text-rose-400">−{removed}</span> words
        {added === 0 && removed === 0 && ' · the drafts are identical'}
      </p>
      <div className="rounded-lg border border-zinc-200 bg-white p-3 text-sm leading-relaxed whitespace-pre-wrap dark:border-zinc-800 dark:bg-zinc-950">
        {parts.map((part, i) =>
          part.added ? (
            <ins key={i} className="rounded-sm bg-emerald-100 text-emerald-900 no-underline dark:bg-emerald-500/20 dark:text-emerald-200">
              {part.value}
            </ins>
          ) : part.removed ? (
            <del key={i} className="rounded-sm bg-rose-100 text-rose-900 dark:bg-rose-500/20 dark:text-rose-200">
              {part.value}
            </del>
          ) : (
            <span key={i}>{part.value}</span>
          ),
        )}
      </div>
    </div>
  );
}
