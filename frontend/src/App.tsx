import { useCallback, useEffect, useState } from 'react';
import { ServerCrash } from 'lucide-react';

import { api, type Tone } from './api/client';
import { ErrorBoundary } from './components/ErrorBoundary';
import { ModelBadge } from './components/ModelBadge';
import { SessionView } from './components/SessionView';
import { Sidebar } from './components/Sidebar';
import { ThemeToggle } from './components/ThemeToggle';
import { Welcome } from './components/Welcome';
import { useInfo } from './hooks/useInfo';
import { useRoute } from './hooks/useRoute';
import { useSessions } from './hooks/useSessions';
import { useTheme } from './hooks/useTheme';

export function App() {
  const { sessionId, navigate } = useRoute();
  const sessions = useSessions();
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
