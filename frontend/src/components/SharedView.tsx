import { BookOpen, Clapperboard, Eye, FileText, Link2Off } from 'lucide-react';
import { useCallback, useEffect, useState, type ReactNode } from 'react';

import { ApiError, type PitchOut } from '../api/client';
import { shareApi, type ShareApi, type SharedView as SharedViewData } from '../api/shares';
import { useTheme } from '../hooks/useTheme';
import { fullTime } from '../lib/format';
import { DocumentCard } from './DocumentCard';
import { DocumentsPanel } from './DocumentsPanel';
import { ErrorBoundary } from './ErrorBoundary';
import { StoryPanel } from './StoryPanel';
import { ThemeToggle } from './ThemeToggle';
import { Button, EmptyState, Spinner } from './ui';

type Load = { status: 'loading' } | { status: 'gone' } | { status: 'error'; message: string } | { status: 'ready'; view: SharedViewData };

/**
 * The page a share link opens (/shared/<token>): the session's story and pitch documents, read-only,
 * for anyone. It asks the server for this link's view alone: no sign-in, no sessions, no socket.
 */
export function SharedView({ token, client = shareApi }: { token: string; client?: Pick<ShareApi, 'view'> }) {
  const [load, setLoad] = useState<Load>({ status: 'loading' });
  const theme = useTheme();

  const fetchView = useCallback(async () => {
    setLoad({ status: 'loading' });
    try {
      setLoad({ status: 'ready', view: await client.view(token) });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) setLoad({ status: 'gone' });
      else setLoad({ status: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  }, [client, token]);

  useEffect(() => {
    void fetchView();
  }, [fetchView]);

  const title = load.status === 'ready' ? load.view.title : load.status === 'gone' ? 'Link expired' : 'Shared pitch';
  useEffect(() => {
    document.title = `${title} · Agente Films`;
    return () => {
      document.title = 'Agente Films';
    };
  }, [title]);

  return (
    <div className="flex h-dvh flex-col" data-testid="shared-view">
      <header className="flex h-14 shrink-0 items-center gap-2.5 border-b border-zinc-200 px-3 sm:px-4 dark:border-zinc-800">
        <span aria-hidden className="flex size-7 items-center justify-center rounded-lg bg-gradient-to-br from-indigo-500 to-violet-600 text-white">
          <Clapperboard className="size-4" />
        </span>
        <span className="min-w-0 flex-1 truncate text-[0.9375rem] font-semibold tracking-tight">Agente Films</span>
        <ThemeToggle choice={theme.choice} dark={theme.dark} onCycle={theme.cycle} />
      </header>
      <main className="scrollbar-thin min-h-0 flex-1 overflow-y-auto">
        {load.status === 'loading' && (
          <div className="flex items-center justify-center gap-2 py-24 text-sm text-zinc-500" data-testid="shared-loading">
            <Spinner /> Opening the shared pitch…
          </div>
        )}
        {load.status === 'gone' && (
          <div data-testid="shared-gone">
            <EmptyState icon={Link2Off} title="This link has expired or was revoked" className="py-24">
              Ask the person who shared it for a new link.
            </EmptyState>
          </div>
        )}
        {load.status === 'error' && (
          <EmptyState icon={Link2Off} title="Could not open the shared pitch" className="py-24">
            <p>{load.message}</p>
            <Button size="sm" className="mt-3" onClick={() => void fetchView()}>
              Try again
            </Button>
          </EmptyState>
        )}
        {load.status === 'ready' && <SharedContent view={load.view} />}
      </main>
    </div>
  );
}

function Section({ icon: Icon, title, children, testId }: { icon: typeof BookOpen; title: string; children: ReactNode; testId: string }) {
  return (
    <section className="rounded-2xl border border-zinc-200 bg-zinc-50/50 dark:border-zinc-800 dark:bg-zinc-900/30" data-testid={testId} aria-label={title}>
      <h2 className="flex items-center gap-2 border-b border-zinc-200 px-4 py-2.5 text-xs font-semibold tracking-wide text-zinc-500 uppercase dark:border-zinc-800 dark:text-zinc-400">
        <Icon aria-hidden className="size-4" />
        {title}
      </h2>
      {children}
    </section>
  );
}

// A share link's versions carry no producer's notes, run ids or undo marks (the server leaves
// them out); the owner's panel shows them as none.
function asOwnersList(pitches: SharedViewData['pitches']): PitchOut[] {
  return pitches.map((p) => ({ ...p, versions: p.versions.map((v) => ({ ...v, notes: [], undone: false })) }));
}

function SharedContent({ view }: { view: SharedViewData }) {
  const current = typeof view.state.pitch_document === 'string' ? view.state.pitch_document : null;
  const pitch = view.pitches.find((p) => p.filename === current) ?? view.pitches[view.pitches.length - 1];
  const latest = pitch?.versions.find((v) => v.version === pitch.latest_version);
  return (
    <div className="mx-auto w-full max-w-3xl space-y-6 px-4 py-6 sm:py-8">
      <div>
        <p className="inline-flex items-center gap-1.5 rounded-2xl bg-zinc-100 px-2.5 py-1 text-xs font-medium text-zinc-600 dark:bg-zinc-800 dark:text-zinc-300" data-testid="shared-notice">
          <Eye aria-hidden className="size-3.5" />
          Shared read-only by the owner · expires {fullTime(view.expires_at)}
        </p>
        <h1 className="mt-3 text-2xl font-semibold tracking-tight sm:text-3xl" data-testid="shared-title">
          {view.title}
        </h1>
        {view.subject && view.subject !== view.title && <p className="mt-1 text-[0.9375rem] text-zinc-500 dark:text-zinc-400" data-testid="shared-subject">{view.subject}</p>}
        <p className="mt-1.5 text-xs text-zinc-500">Last changed {fullTime(view.updated_at)}</p>
      </div>
      {pitch && latest && <DocumentCard label="Pitch document" filename={pitch.filename} version={latest.version} markdownUrl={latest.markdown_url} pdfUrl={latest.pdf_url} />}
      <Section icon={BookOpen} title="Story" testId="shared-story">
        <ErrorBoundary label="story">
          <StoryPanel state={view.state} drafts={[]} />
        </ErrorBoundary>
      </Section>
      <Section icon={FileText} title="Pitch documents" testId="shared-documents">
        <DocumentsPanel pitches={asOwnersList(view.pitches)} error={null} loading={false} current={current} />
      </Section>
    </div>
  );
}
