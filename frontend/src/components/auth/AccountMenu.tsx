import { ChevronDown, KeyRound, LockKeyhole, LogOut } from 'lucide-react';
import { useEffect, useRef, useState, type ReactNode } from 'react';

import { authApi, type AuthApi, type AuthConfig, type Me } from '../../api/auth';
import { PasswordDialog } from './PasswordDialog';
import { TokensDialog } from './TokensDialog';

/** The top bar's account button: who is signed in, and their password, API tokens and sign-out. */
export function AccountMenu({
  me,
  config,
  onSignOut,
  client = authApi,
}: {
  me: Me;
  config: AuthConfig;
  onSignOut: () => Promise<void>;
  client?: AuthApi;
}) {
  const [open, setOpen] = useState(false);
  const [dialog, setDialog] = useState<'password' | 'tokens' | null>(null);
  const [signOutError, setSignOutError] = useState<string | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    const items = () => Array.from(root.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? []);
    items()[0]?.focus();
    const onDown = (e: MouseEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false);
        button.current?.focus();
      } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        // Up and down move through the items, round and round.
        e.preventDefault();
        const list = items();
        const at = list.indexOf(document.activeElement as HTMLElement);
        list[(at + (e.key === 'ArrowDown' ? 1 : list.length - 1)) % list.length]?.focus();
      }
    };
    document.addEventListener('mousedown', onDown);
    window.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      window.removeEventListener('keydown', onKey);
    };
  }, [open]);

  const choose = (what: 'password' | 'tokens') => {
    setOpen(false);
    setDialog(what);
  };

  const signOut = async () => {
    setSignOutError(null);
    try {
      await onSignOut();
    } catch (err) {
      setSignOutError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <div ref={root} className="relative" data-testid="account-menu">
      <button
        ref={button}
        type="button"
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
        data-testid="account-button"
        className="inline-flex h-8 items-center gap-1.5 rounded-lg pr-1.5 pl-1 text-sm text-zinc-700 transition-colors hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
      >
        <span aria-hidden className="flex size-6 items-center justify-center rounded-full bg-gradient-to-br from-indigo-500 to-violet-600 text-[0.6875rem] font-semibold text-white uppercase">
          {me.username.slice(0, 1)}
        </span>
        <span className="hidden max-w-32 truncate font-medium sm:inline" data-testid="account-name">
          {me.username}
        </span>
        <span className="sr-only">Account</span>
        <ChevronDown aria-hidden className="size-3.5 text-zinc-400" />
      </button>
      {open && (
        <div
          role="menu"
          aria-label="Account"
          className="animate-fade-in absolute top-full right-0 z-50 mt-1.5 w-60 overflow-hidden rounded-xl border border-zinc-200 bg-white py-1 shadow-lg dark:border-zinc-800 dark:bg-zinc-900"
        >
          <div className="border-b border-zinc-100 px-3 py-2.5 dark:border-zinc-800">
            <p className="text-xs text-zinc-500 dark:text-zinc-400">Signed in as</p>
            <p className="flex items-center gap-1.5 truncate text-sm font-medium">
              {me.username}
              {me.is_admin && <span className="rounded-full bg-indigo-50 px-1.5 py-0.5 text-[0.625rem] font-medium text-indigo-700 ring-1 ring-indigo-600/20 ring-inset dark:bg-indigo-500/10 dark:text-indigo-300">admin</span>}
            </p>
          </div>
          <div className="py-1">
            {config.auth_mode === 'password' && (
              <MenuItem icon={<LockKeyhole aria-hidden className="size-4" />} onClick={() => choose('password')} testId="menu-password">
                Change password
              </MenuItem>
            )}
            <MenuItem icon={<KeyRound aria-hidden className="size-4" />} onClick={() => choose('tokens')} testId="menu-tokens">
              API tokens
            </MenuItem>
          </div>
          {me.via === 'cookie' && (
            <div className="border-t border-zinc-100 py-1 dark:border-zinc-800">
              <MenuItem icon={<LogOut aria-hidden className="size-4" />} onClick={() => void signOut()} testId="menu-signout">
                Sign out
              </MenuItem>
              {signOutError && <p className="px-3 pb-1.5 text-xs text-rose-600 dark:text-rose-400">{signOutError}</p>}
            </div>
          )}
        </div>
      )}
      {dialog === 'password' && <PasswordDialog client={client} onClose={() => setDialog(null)} />}
      {dialog === 'tokens' && <TokensDialog client={client} onClose={() => setDialog(null)} />}
    </div>
  );
}

function MenuItem({ icon, onClick, children, testId }: { icon: ReactNode; onClick: () => void; children: ReactNode; testId: string }) {
  return (
    <button
      type="button"
      role="menuitem"
      onClick={onClick}
      data-testid={testId}
      className="flex w-full items-center gap-2.5 px-3 py-1.5 text-left text-sm text-zinc-700 outline-none hover:bg-zinc-100 focus-visible:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800 dark:focus-visible:bg-zinc-800"
    >
      <span className="text-zinc-400">{icon}</span>
      {children}
    </button>
  );
}
