import { Archive, ArchiveRestore, Check, GitBranch, Pencil, Trash, X } from 'lucide-react';
import { useEffect, useRef, useState, type FormEvent } from 'react';

import type { SessionOut } from '../api/client';
import { branchPointLabel, isBranch } from '../lib/branches';
import { cx, fullTime, relativeTime } from '../lib/format';
import { ArchivedBadge } from './Archive';
import { Button, IconButton, StatusPill } from './ui';

interface Props {
  session: SessionOut;
  current: boolean;
  /** How deep a branch sits under the session it came from (0: top level). */
  depth?: number;
  /** A branch listed at the top level because its parent is not in the list. */
  orphanBranch?: boolean;
  onSelect: () => void;
  onRename: (title: string) => Promise<unknown>;
  onDelete: () => Promise<void>;
  /** Archive (true) or unarchive (false) the session. */
  onArchive?: (archived: boolean) => Promise<unknown>;
}

export function SessionItem({ session, current, depth = 0, orphanBranch = false, onSelect, onRename, onDelete, onArchive }: Props) {
  const [mode, setMode] = useState<'view' | 'rename' | 'confirm'>('view');
  const [title, setTitle] = useState(session.title);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (mode === 'rename') input.current?.select();
  }, [mode]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const next = title.trim();
    if (!next || next === session.title) {
      setMode('view');
      return;
    }
    setBusy(true);
    try {
      await onRename(next);
      setMode('view');
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const toggleArchived = async () => {
    if (!onArchive) return;
    setBusy(true);
    try {
      await onArchive(!session.archived_at);
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setBusy(true);
    try {
      await onDelete();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
      setMode('view');
    }
  };

  if (mode === 'rename') {
    return (
      <li className="rounded-lg bg-white p-2 shadow-xs ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800" data-testid="session-item" data-session-id={session.id} data-mode="rename">
        <form onSubmit={submit} className="flex items-center gap-1">
          <label className="sr-only" htmlFor={`rename-${session.id}`}>
            Session title
          </label>
          <input
            id={`rename-${session.id}`}
            ref={input}
            value={title}
            maxLength={200}
            disabled={busy}
            onChange={(e) => setTitle(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                setTitle(session.title);
                setMode('view');
              }
            }}
            className="min-w-0 flex-1 rounded-md border border-zinc-200 bg-transparent px-2 py-1 text-sm outline-none focus:border-indigo-500 dark:border-zinc-700"
          />
          <IconButton icon={Check} label="Save title" type="submit" disabled={busy} />
          <IconButton icon={X} label="Cancel renaming" onClick={() => setMode('view')} />
        </form>
        {error && <p className="mt-1 text-xs text-rose-600 dark:text-rose-400">{error}</p>}
      </li>
    );
  }

  if (mode === 'confirm') {
    return (
      <li className="rounded-lg bg-rose-50 p-2.5 ring-1 ring-rose-200 dark:bg-rose-500/10 dark:ring-rose-500/30" role="alertdialog" aria-label="Delete session" data-testid="session-item" data-session-id={session.id} data-mode="confirm">
        <p className="text-sm text-rose-900 dark:text-rose-200">
          Delete <strong className="font-semibold">{session.title}</strong>? Its conversation and documents go too.
        </p>
        <div className="mt-2 flex gap-1.5">
          <Button size="sm" variant="danger" onClick={() => void remove()} disabled={busy} autoFocus>
            Delete
          </Button>
          <Button size="sm" variant="ghost" onClick={() => setMode('view')} disabled={busy}>
            Cancel
          </Button>
        </div>
      </li>
    );
  }

  const branch = isBranch(session);
  const indent = Math.min(depth, 4);
  return (
    <li
      className="group relative"
      style={indent > 0 ? { paddingLeft: `${indent * 0.875}rem` } : undefined}
      data-testid="session-item"
      data-session-id={session.id}
      data-parent-id={session.parent_id ?? undefined}
      data-depth={depth}
    >
      {indent > 0 && <span aria-hidden className="absolute inset-y-1 w-px bg-zinc-200 dark:bg-zinc-800" style={{ left: `${indent * 0.875 - 0.375}rem` }} />}
      <button
        type="button"
        onClick={onSelect}
        aria-current={current ? 'page' : undefined}
        className={cx(
          'block w-full rounded-lg px-2.5 py-2 text-left transition-colors',
          onArchive ? 'max-lg:pr-24' : 'max-lg:pr-16',
          current ? 'bg-white shadow-xs ring-1 ring-zinc-200 dark:bg-zinc-800 dark:ring-zinc-700' : 'hover:bg-zinc-100 dark:hover:bg-zinc-800/60',
        )}
      >
        <span className="flex items-center gap-1.5">
          {branch && <GitBranch aria-hidden className="size-3.5 shrink-0 text-zinc-400" />}
          <span className="min-w-0 flex-1 truncate text-sm font-medium text-zinc-900 dark:text-zinc-100" data-testid="session-title">
            {session.title}
          </span>
        </span>
        {branch && (
          <span className="mt-0.5 flex items-center gap-1.5 text-xs text-zinc-500 dark:text-zinc-400" data-testid="branch-point">
            {orphanBranch && (
              <span className="rounded-full bg-violet-50 px-1.5 py-0.5 text-[0.6875rem] leading-none font-medium text-violet-700 ring-1 ring-violet-600/20 ring-inset dark:bg-violet-500/10 dark:text-violet-300" data-testid="branch-badge">
                branch
              </span>
            )}
            <span className="truncate">{orphanBranch ? branchPointLabel(session.branch_point) : `Branch ${branchPointLabel(session.branch_point)}`}</span>
          </span>
        )}
        <span className="mt-1 flex items-center gap-1.5 text-xs text-zinc-500 dark:text-zinc-400">
          {!(branch && session.status === 'idle') && <StatusPill status={session.status} />}
          {session.archived_at && <ArchivedBadge archivedAt={session.archived_at} />}
          {session.subject && session.subject !== session.title && <span className="min-w-0 truncate">{session.subject}</span>}
          <time dateTime={session.updated_at} title={fullTime(session.updated_at)} className="ml-auto shrink-0 tabular-nums">
            {relativeTime(session.updated_at)}
          </time>
        </span>
      </button>
      <div className="absolute top-1.5 right-1.5 flex rounded-md bg-zinc-50/95 opacity-0 transition-opacity group-focus-within:opacity-100 group-hover:opacity-100 max-lg:opacity-100 dark:bg-zinc-900/95">
        <IconButton icon={Pencil} label={`Rename ${session.title}`} className="size-7" onClick={() => { setTitle(session.title); setMode('rename'); }} />
        {onArchive &&
          (session.archived_at ? (
            <IconButton icon={ArchiveRestore} label={`Unarchive ${session.title}`} className="size-7" disabled={busy} onClick={() => void toggleArchived()} />
          ) : (
            <IconButton icon={Archive} label={`Archive ${session.title}`} className="size-7" disabled={busy} onClick={() => void toggleArchived()} />
          ))}
        <IconButton icon={Trash} label={`Delete ${session.title}`} className="size-7 hover:text-rose-600" onClick={() => setMode('confirm')} />
      </div>
      {error && <p className="px-2.5 pb-1 text-xs text-rose-600 dark:text-rose-400">{error}</p>}
    </li>
  );
}
