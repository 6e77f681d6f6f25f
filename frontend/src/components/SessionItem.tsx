import { Check, Pencil, Trash, X } from 'lucide-react';
import { useEffect, useRef, useState, type FormEvent } from 'react';

import type { SessionOut } from '../api/client';
import { cx, fullTime, relativeTime } from '../lib/format';
import { Button, IconButton, StatusPill } from './ui';

interface Props {
  session: SessionOut;
  current: boolean;
  onSelect: () => void;
  onRename: (title: string) => Promise<unknown>;
  onDelete: () => Promise<void>;
}

export function SessionItem({ session, current, onSelect, onRename, onDelete }: Props) {
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

  return (
    <li className="group relative" data-testid="session-item" data-session-id={session.id}>
      <button
        type="button"
        onClick={onSelect}
        aria-current={current ? 'page' : undefined}
        className={cx(
          'block w-full rounded-lg px-2.5 py-2 text-left transition-colors max-lg:pr-16',
          current ? 'bg-white shadow-xs ring-1 ring-zinc-200 dark:bg-zinc-800 dark:ring-zinc-700' : 'hover:bg-zinc-100 dark:hover:bg-zinc-800/60',
        )}
      >
        <span className="flex items-center gap-2">
          <span className="min-w-0 flex-1 truncate text-sm font-medium text-zinc-900 dark:text-zinc-100" data-testid="session-title">
            {session.title}
          </span>
        </span>
        <span className="mt-1 flex items-center gap-1.5 text-xs text-zinc-500 dark:text-zinc-400">
          <StatusPill status={session.status} />
          {session.subject && session.subject !== session.title && <span className="min-w-0 truncate">{session.subject}</span>}
          <time dateTime={session.updated_at} title={fullTime(session.updated_at)} className="ml-auto shrink-0 tabular-nums">
            {relativeTime(session.updated_at)}
          </time>
        </span>
      </button>
      <div className="absolute top-1.5 right-1.5 flex rounded-md bg-zinc-50/95 opacity-0 transition-opacity group-focus-within:opacity-100 group-hover:opacity-100 max-lg:opacity-100 dark:bg-zinc-900/95">
        <IconButton icon={Pencil} label={`Rename ${session.title}`} className="size-7" onClick={() => { setTitle(session.title); setMode('rename'); }} />
        <IconButton icon={Trash} label={`Delete ${session.title}`} className="size-7 hover:text-rose-600" onClick={() => setMode('confirm')} />
      </div>
      {error && <p className="px-2.5 pb-1 text-xs text-rose-600 dark:text-rose-400">{error}</p>}
    </li>
  );
}
