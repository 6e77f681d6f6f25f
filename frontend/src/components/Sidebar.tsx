import { Clapperboard, Plus, X } from 'lucide-react';

import type { SessionsHandle } from '../hooks/useSessions';
import { sessionTree } from '../lib/branches';
import { cx } from '../lib/format';
import { SessionItem } from './SessionItem';
import { Button, IconButton, Spinner } from './ui';

interface SidebarProps {
  sessions: SessionsHandle;
  currentId: string | null;
  open: boolean;
  onClose: () => void;
  onSelect: (id: string) => void;
  onNew: () => void;
  onDeleted: (id: string) => void;
}

/** Past sessions, newest first, each branch under the session it came from; a drawer on phones, a column on desktops. */
export function Sidebar({ sessions, currentId, open, onClose, onSelect, onNew, onDeleted }: SidebarProps) {
  return (
    <>
      <div
        aria-hidden
        onClick={onClose}
        className={cx('fixed inset-0 z-30 bg-zinc-950/40 backdrop-blur-[1px] transition-opacity lg:hidden', open ? 'opacity-100' : 'pointer-events-none opacity-0')}
      />
      <nav
        aria-label="Sessions"
        data-testid="sidebar"
        className={cx(
          'fixed inset-y-0 left-0 z-40 flex w-72 max-w-[85vw] flex-col border-r border-zinc-200 bg-zinc-50 transition-transform duration-200 lg:static lg:translate-x-0 dark:border-zinc-800 dark:bg-zinc-900',
          open ? 'translate-x-0 shadow-2xl lg:shadow-none' : '-translate-x-full',
        )}
      >
        <div className="flex h-14 shrink-0 items-center gap-2.5 px-4">
          <span className="flex size-7 items-center justify-center rounded-lg bg-indigo-600 text-white shadow-sm">
            <Clapperboard aria-hidden className="size-4" />
          </span>
          <span className="text-[0.9375rem] font-semibold tracking-tight">Agente Films</span>
          <IconButton icon={X} label="Close the session list" onClick={onClose} className="ml-auto lg:hidden" />
        </div>
        <div className="px-3 pb-3">
          <Button variant="primary" icon={Plus} className="w-full" onClick={onNew} data-testid="new-session">
            New pitch
          </Button>
        </div>
        <div className="px-4 pt-1 pb-1.5 text-[0.6875rem] font-semibold tracking-wide text-zinc-500 uppercase">
          Sessions {sessions.total > 0 && <span className="font-normal text-zinc-400">· {sessions.total}</span>}
        </div>
        <ul className="scrollbar-thin min-h-0 flex-1 space-y-0.5 overflow-y-auto px-2 pb-3" data-testid="session-list">
          {!sessions.loaded && (
            <li className="flex items-center gap-2 px-2 py-3 text-sm text-zinc-500">
              <Spinner /> Loading sessions…
            </li>
          )}
          {sessions.loaded && sessions.error && sessions.items.length === 0 && (
            <li className="px-2 py-3 text-sm text-rose-600 dark:text-rose-400">{sessions.error}</li>
          )}
          {sessions.loaded && !sessions.error && sessions.items.length === 0 && (
            <li className="px-2 py-3 text-sm leading-relaxed text-zinc-500">No pitches yet. Start one and it will be kept here, ready for tomorrow.</li>
          )}
          {sessionTree(sessions.items).map(({ session, depth, orphan }) => (
            <SessionItem
              key={session.id}
              session={session}
              depth={depth}
              orphanBranch={orphan}
              current={session.id === currentId}
              onSelect={() => onSelect(session.id)}
              onRename={(title) => sessions.rename(session.id, title)}
              onArchive={(archived) => sessions.setArchived(session.id, archived)}
              onDelete={async () => {
                await sessions.remove(session.id);
                onDeleted(session.id);
              }}
            />
          ))}
          {sessions.items.length < sessions.total && (
            <li>
              <Button variant="ghost" size="sm" className="w-full" onClick={() => void sessions.loadMore()}>
                Show older sessions
              </Button>
            </li>
          )}
        </ul>
        <div className="border-t border-zinc-200 px-4 py-2.5 text-xs text-zinc-500 dark:border-zinc-800">
          Sessions are kept on the server.{' '}
          <a href="/docs" target="_blank" rel="noopener noreferrer" className="font-medium text-zinc-700 hover:underline dark:text-zinc-300">
            API docs
          </a>
        </div>
      </nav>
    </>
  );
}
