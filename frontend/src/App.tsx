import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { ServerCrash } from 'lucide-react';

import { api, type Tone } from './api/client';
import { AccountMenu } from './components/auth/AccountMenu';
import { AuthLoading, SignInPage, SignUpPage } from './components/auth/AuthPages';
import { ErrorBoundary } from './components/ErrorBoundary';
import { ModelBadge } from './components/ModelBadge';
import { SessionView } from './components/SessionView';
import { SharedView } from './components/SharedView';
import { Sidebar } from './components/Sidebar';
import { ThemeToggle } from './components/ThemeToggle';
import { Welcome } from './components/Welcome';
import { useAuth } from './hooks/useAuth';
import { useInfo } from './hooks/useInfo';
import { sharedTokenFromPath, useRoute } from './hooks/useRoute';
import { useSessions } from './hooks/useSessions';
import { useTheme } from './hooks/useTheme';

/** A failed sign-in with the provider comes back as /?signin_error=<code>: read once, then taken
 * out of the address so a reload does not show it again. */
function useSigninError(): string | null {
  const [code] = useState(() => new URLSearchParams(window.location.search).get('signin_error'));
  useEffect(() => {
    if (!code) return;
    const url = new URL(window.location.href);
    url.searchParams.delete('signin_error');
    window.history.replaceState(null, '', `${url.pathname}${url.search}${url.hash}`);
  }, [code]);
  return code;
}

export function App() {
  // A share link's page: anyone may open it, so it comes before the sign-in (no /auth/me, no sessions).
  const [sharedToken] = useState(() => sharedTokenFromPath(window.location.pathname));
  return sharedToken ? <SharedView token={sharedToken} /> : <SignedInApp />;
}

/** The studio for whoever is signed in (everyone is, as the local user, in AUTH_MODE=none), otherwise
 * the sign-in or sign-up page. */
function SignedInApp() {
  const auth = useAuth();
  const { authPage, openAuthPage } = useRoute();
  const signinError = useSigninError();
  const { state } = auth;
  const signedIn = state.status === 'signed_in';

  // Signed in on /signin or /signup (back button, a bookmark): the studio's start page instead.
  useEffect(() => {
    if (signedIn && authPage) openAuthPage(null, { replace: true });
  }, [signedIn, authPage, openAuthPage]);

  if (state.status === 'loading') return <AuthLoading />;
  if (state.status === 'signed_out') {
    // Signed in from /s/<id>, the session opens; from the sign-in pages, the start page.
    const enter = () => authPage && openAuthPage(null, { replace: true });
    if (authPage === 'signup' && state.config.signup_open) {
      return (
        <SignUpPage
          onSignUp={async (username, password) => {
            await auth.signUp(username, password);
            enter();
          }}
          onSignInPage={() => openAuthPage('signin')}
        />
      );
    }
    return (
      <SignInPage
        config={state.config}
        signinError={signinError}
        onSignIn={async (username, password) => {
          await auth.signIn(username, password);
          enter();
        }}
        onSignUpPage={() => openAuthPage('signup')}
      />
    );
  }
  // Signed in, or the server is not answering yet (the studio says so and retries, as before).
  const account =
    state.status === 'signed_in' && state.config.auth_mode !== 'none' ? (
      <AccountMenu
        me={state.me}
        config={state.config}
        onSignOut={async () => {
          await auth.signOut();
          openAuthPage('signin');
        }}
      />
    ) : null;
  return <Studio key={state.status === 'signed_in' ? state.me.user_id : 'unknown'} account={account} />;
}

/** The studio: sessions in the sidebar, the start page or a session; `account` is the top bar's account menu. */
function Studio({ account }: { account: ReactNode }) {
  const { sessionId, navigate } = useRoute();
  const sessions = useSessions(api, { current: sessionId });
  const { info, error: infoError } = useInfo();
  const theme = useTheme();
  const [drawer, setDrawer] = useState(false);
  const [startError, setStartError] = useState<string | null>(null);

  // Escape closes the session drawer on phones.
  useEffect(() => {
    if (!drawer) return;
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setDrawer(false);
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [drawer]);

  const open = useCallback(
    (id: string | null) => {
      navigate(id);
      setDrawer(false);
      setStartError(null);
    },
    [navigate],
  );

  const start = useCallback(
    async (text: string, direction: Tone[] = []): Promise<boolean> => {
      setStartError(null);
      try {
        const session = await sessions.create();
        await api.sendMessage(session.id, text, direction);
        open(session.id);
        void sessions.refresh();
        return true;
      } catch (err) {
        setStartError(err instanceof Error ? err.message : String(err));
        return false;
      }
    },
    [open, sessions],
  );

  const headerRight = (model: string | null) => (
    <>
      <ModelBadge info={info} fallbackModel={model} />
      <ThemeToggle choice={theme.choice} dark={theme.dark} onCycle={theme.cycle} />
      {account}
    </>
  );

  const serverDown = !info && infoError ? infoError : null;
  const current = sessions.items.find((s) => s.id === sessionId);

  return (
    <div className="flex h-dvh overflow-hidden">
      <Sidebar
        sessions={sessions}
        currentId={sessionId}
        open={drawer}
        onClose={() => setDrawer(false)}
        onSelect={(id) => open(id)}
        onNew={() => open(null)}
        onDeleted={(id) => {
          if (id === sessionId) open(null);
        }}
      />
      <main className="flex min-w-0 flex-1 flex-col">
        {serverDown && (
          <div role="alert" data-testid="server-down" className="flex items-center gap-2 border-b border-rose-200 bg-rose-50 px-4 py-2 text-sm text-rose-900 dark:border-rose-500/20 dark:bg-rose-500/10 dark:text-rose-200">
            <ServerCrash aria-hidden className="size-4 shrink-0" />
            <span>
              <span className="font-medium">The Agente Films server is not answering.</span> {serverDown} Retrying…
            </span>
          </div>
        )}
        {startError && (
          <div role="alert" className="border-b border-rose-200 bg-rose-50 px-4 py-2 text-sm text-rose-900 dark:border-rose-500/20 dark:bg-rose-500/10 dark:text-rose-200">
            Could not start the pitch: {startError}
          </div>
        )}
        <ErrorBoundary>
          {sessionId ? (
            <SessionView
              key={sessionId}
              sessionId={sessionId}
              session={current}
              sessions={sessions.items}
              info={info}
              onOpenSession={(id) => open(id)}
              onBranched={(branch) => {
                sessions.add(branch);
                open(branch.id);
                void sessions.refresh();
              }}
              onSessionChange={() => void sessions.refresh()}
              onMenu={() => setDrawer(true)}
              headerRight={headerRight}
            />
          ) : (
            <Welcome
              maxChars={info?.max_message_chars ?? 8000}
              onStart={start}
              onMenu={() => setDrawer(true)}
              headerRight={headerRight(null)}
              serverError={serverDown ? 'The server is not answering; you can start a pitch as soon as it is back.' : null}
            />
          )}
        </ErrorBoundary>
      </main>
    </div>
  );
}
