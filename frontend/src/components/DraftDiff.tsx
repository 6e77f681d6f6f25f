import { diffArrays, diffWords } from 'diff';
import { FileDown } from 'lucide-react';
import { useMemo, type ReactNode } from 'react';

import { cx } from '../lib/format';

export type DiffMode = 'side' | 'inline';

export interface DiffSide {
  label: ReactNode;
  /** Where this version downloads as Markdown. */
  downloadUrl?: string;
}

/** A piece of one side's text: unchanged, or only on this side. */
export interface Piece {
  value: string;
  changed?: boolean;
}

/** One row of the side-by-side view: a paragraph of each version (null where a side has none). */
export interface DiffRow {
  a: Piece[] | null;
  b: Piece[] | null;
  same: boolean;
}

function paragraphs(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean);
}

/**
 * The two versions paragraph by paragraph, side by side: equal paragraphs face each other, a changed
 * one faces its counterpart with the words each side has alone marked, and a paragraph only one
 * version has faces an empty cell.
 */
export function sideBySide(from: string, to: string): DiffRow[] {
  const rows: DiffRow[] = [];
  const chunks = diffArrays(paragraphs(from), paragraphs(to));
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i]!;
    if (!chunk.added && !chunk.removed) {
      for (const p of chunk.value) rows.push({ a: [{ value: p }], b: [{ value: p }], same: true });
      continue;
    }
    const removed = chunk.removed ? chunk.value : [];
    const next = chunks[i + 1];
    const added = chunk.added ? chunk.value : next?.added ? next.value : [];
    if (chunk.removed && next?.added) i++;
    for (let k = 0; k < Math.max(removed.length, added.length); k++) {
      const a = removed[k];
      const b = added[k];
      if (a !== undefined && b !== undefined) {
        const parts = diffWords(a, b);
        rows.push({
          a: parts.filter((p) => !p.added).map((p) => ({ value: p.value, changed: p.removed })),
          b: parts.filter((p) => !p.removed).map((p) => ({ value: p.value, changed: p.added })),
          same: false,
        });
      } else if (a !== undefined) {
        rows.push({ a: [{ value: a, changed: true }], b: null, same: false });
      } else if (b !== undefined) {
        rows.push({ a: null, b: [{ value: b, changed: true }], same: false });
      }
    }
  }
  return rows;
}

function Added({ children }: { children: string }) {
  return <ins className="rounded-sm bg-emerald-100 text-emerald-900 no-underline dark:bg-emerald-500/20 dark:text-emerald-200">{children}</ins>;
}

function Removed({ children }: { children: string }) {
  return <del className="rounded-sm bg-rose-100 text-rose-900 dark:bg-rose-500/20 dark:text-rose-200">{children}</del>;
}

function Header({ side, which }: { side?: DiffSide; which: 'a' | 'b' }) {
  return (
    <div className={cx('flex items-start gap-2 px-3 py-2', which === 'b' && '@max-md:border-t @max-md:border-zinc-100 @md:border-l @md:border-zinc-200 dark:border-zinc-800')} data-testid={`diff-side-${which}`}>
      <span className={cx('mt-1 size-2 shrink-0 rounded-full', which === 'a' ? 'bg-rose-400' : 'bg-emerald-500')} aria-hidden />
      <span className="min-w-0 flex-1 text-xs leading-snug font-medium text-zinc-700 dark:text-zinc-300" data-testid="diff-side-label">
        {side?.label ?? (which === 'a' ? 'From' : 'To')}
      </span>
      {side?.downloadUrl && (
        <a
          href={side.downloadUrl}
          download
          data-testid="diff-download"
          className="inline-flex h-6 shrink-0 items-center gap-1 rounded-md border border-zinc-200 bg-white px-1.5 text-xs font-medium text-zinc-700 hover:bg-zinc-50 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-200 dark:hover:bg-zinc-800"
        >
          <FileDown aria-hidden className="size-3.5" /> .md
        </a>
      )}
    </div>
  );
}

function Cell({ pieces, which, same }: { pieces: Piece[] | null; which: 'a' | 'b'; same: boolean }) {
  return (
    <div
      data-testid={`diff-cell-${which}`}
      data-same={same ? 'true' : undefined}
      className={cx(
        'min-w-0 border-t border-zinc-100 px-3 py-2 whitespace-pre-wrap break-words dark:border-zinc-800',
        which === 'b' && '@md:border-l @md:border-l-zinc-200',
        same ? 'text-zinc-500 dark:text-zinc-400' : 'text-zinc-900 dark:text-zinc-100',
        !same && pieces === null && 'bg-zinc-50 dark:bg-zinc-900/50',
        // On a narrow screen the sides stack: a coloured edge says which one a paragraph is from, and
        // a paragraph both have shows once.
        '@max-md:border-l-2',
        same ? '@max-md:border-l-transparent' : which === 'a' ? '@max-md:border-l-rose-300' : '@max-md:border-l-emerald-400',
        same && which === 'b' && '@max-md:hidden',
      )}
    >
      {pieces?.map((p, i) => (p.changed ? which === 'a' ? <Removed key={i}>{p.value}</Removed> : <Added key={i}>{p.value}</Added> : <span key={i}>{p.value}</span>))}
    </div>
  );
}

/**
 * Word-level changes from one version to another: side by side (the earlier version on the left with
 * its removals struck red, the later one on the right with its additions green, paragraph facing
 * paragraph), or inline in one text.
 */
export function DraftDiff({ from, to, mode = 'inline', sides }: { from: string; to: string; mode?: DiffMode; sides?: [DiffSide, DiffSide] }) {
  const parts = useMemo(() => diffWords(from, to), [from, to]);
  const rows = useMemo(() => (mode === 'side' ? sideBySide(from, to) : []), [from, to, mode]);
  const added = parts.filter((p) => p.added).reduce((n, p) => n + p.count, 0);
  const removed = parts.filter((p) => p.removed).reduce((n, p) => n + p.count, 0);
  return (
    <div data-testid="draft-diff" data-mode={mode} className="@container">
      <p className="mb-2 text-xs text-zinc-500" data-testid="diff-stats">
        <span className="font-medium text-emerald-700 dark:text-emerald-400">+{added}</span> words ·{' '}
        <span className="font-medium text-rose-700 dark:text-rose-400">−{removed}</span> words
        {added === 0 && removed === 0 && ' · the versions are identical'}
      </p>
      {mode === 'side' ? (
        <div className="grid grid-cols-1 overflow-hidden rounded-lg border border-zinc-200 bg-white text-sm leading-relaxed @md:grid-cols-2 dark:border-zinc-800 dark:bg-zinc-950" data-testid="diff-columns">
          <Header side={sides?.[0]} which="a" />
          <Header side={sides?.[1]} which="b" />
          {rows.map((row, i) => (
            <DiffRowCells key={i} row={row} />
          ))}
        </div>
      ) : (
        <>
          {sides && (
            <div className="mb-1.5 flex flex-wrap items-center gap-x-3 gap-y-1 text-xs text-zinc-600 dark:text-zinc-400">
              {sides.map((side, i) => (
                <span key={i} className="inline-flex min-w-0 items-center gap-1.5">
                  <span className={i === 0 ? 'size-2 rounded-full bg-rose-400' : 'size-2 rounded-full bg-emerald-500'} aria-hidden />
                  <span data-testid="diff-side-label">{side.label}</span>
                  {side.downloadUrl && (
                    <a href={side.downloadUrl} download data-testid="diff-download" className="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
                      .md
                    </a>
                  )}
                </span>
              ))}
            </div>
          )}
          <div className="rounded-lg border border-zinc-200 bg-white p-3 text-sm leading-relaxed whitespace-pre-wrap break-words dark:border-zinc-800 dark:bg-zinc-950">
            {parts.map((part, i) =>
              part.added ? <Added key={i}>{part.value}</Added> : part.removed ? <Removed key={i}>{part.value}</Removed> : <span key={i}>{part.value}</span>,
            )}
          </div>
        </>
      )}
    </div>
  );
}

function DiffRowCells({ row }: { row: DiffRow }) {
  return (
    <>
      <Cell pieces={row.a} which="a" same={row.same} />
      <Cell pieces={row.b} which="b" same={row.same} />
    </>
  );
}
