import { BookOpen, FileText, MessageSquare, Users } from 'lucide-react';
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';

import type { BranchIn, InfoOut, SessionOut } from '../api/client';
import { useBranchFamily } from '../hooks/useBranchFamily';
import { usePitches, type SavedVersion } from '../hooks/usePitches';
import { draftRounds, localDraftOptions, pitchOptions, THIS_SESSION, useFamilyVersions } from '../hooks/useVersions';
import { branchCut, isBusy, lastTeamRun, noteBook, visibleRuns } from '../stream/selectors';
import type { RunView } from '../stream/types';
import { useSession } from '../stream/useSession';
import { isBranch } from '../lib/branches';
import { cx } from '../lib/format';
import { ARCHIVED_REASON, ArchivedBadge, UnarchiveButton } from './Archive';
import { BranchIntro, BranchOrigin } from './BranchOrigin';
import { ChatPanel } from './ChatPanel';
import { ConnectionBanner } from './ConnectionBanner';
import { DocumentsPanel } from './DocumentsPanel';
import { ErrorBoundary } from './ErrorBoundary';
import { ShareButton } from './ShareDialog';
import { StoryPanel } from './StoryPanel';
import { TeamPanel } from './TeamPanel';
import { TopBar } from './TopBar';
import { RUN_IN_PROGRESS_REASON, StatusPill } from './ui';

type Panel = 'team' | 'story' | 'docs';

/** The document versions the stream said were saved, in the runs this page followed live. */
function savedVersions(live: Record<string, RunView>): SavedVersion[] {
  return Object.values(live).flatMap((run) => run.entries.flatMap((e) => (e.kind === 'artifact' ? [{ filename: e.filename, version: e.version }] : [])));
}

interface Props {
  sessionId: string;
  session: SessionOut | undefined;
  /** The sessions the sidebar knows (the parent and branches are looked up there first). */
  sessions?: SessionOut[];
  info: InfoOut | null;
  /** Open another session (a parent, a new branch). */
  onOpenSession?: (id: string) => void;
  /** A branch was made from this session: list it and open it. */
  onBranched?: (session: SessionOut) => void;
  onSessionChange: () => void;
  onMenu: () => void;
  headerRight: (model: string | null) => ReactNode;
}

function Tab({ active, onClick, icon: Icon, label, short, badge, testId }: { active: boolean; onClick: () => void; icon: typeof Users; label: string; short?: string; badge?: ReactNode; testId: string }) {
  return (
    <button
      type="button"
      role="tab"
      aria-selected={active}
      onClick={onClick}
      data-testid={testId}
      className={cx(
        'inline-flex items-center justify-center gap-1.5 rounded-md px-2.5 py-1.5 text-sm font-medium whitespace-nowrap transition-colors max-lg:flex-1 max-lg:px-1.5',
        active ? 'bg-white text-zinc-900 shadow-xs ring-1 ring-zinc-200 dark:bg-zinc-800 dark:text-zinc-100 dark:ring-zinc-700' : 'text-zinc-500 hover:text-zinc-900 dark:hover:text-zinc-100',
      )}
    >
      <Icon aria-hidden className="size-4 shrink-0" />
      {short ? (
        <>
          <span className="max-sm:hidden">{label}</span>
          <span className="sm:hidden">{short}</span>
        </>
      ) : (
        label
      )}
      {badge}
    </button>
  );
}

/** One session: chat on the left; the team, the story and the documents on the right (tabs on phones). */
export function SessionView({ sessionId, session, sessions = [], info, onSessionChange, onOpenSession, onBranched, onMenu, headerRight }: Props) {
  const s = useSession(sessionId, { onSessionChange });
  const runs = useMemo(() => visibleRuns(s.state), [s.state]);
  const busy = isBusy(s.state);
  const saved = useMemo(() => savedVersions(s.state.live), [s.state.live]);
  const docs = usePitches(sessionId, s.state.runsEndedToken, saved);
  const [panel, setPanel] = useState<Panel>('team');
  const [mobile, setMobile] = useState<'chat' | 'panel'>('chat');
  const maxRounds = info?.writers_room_max_iterations ?? null;
  const teamRun = lastTeamRun(runs);
  const notes = useMemo(() => [...noteBook(runs, s.state.state).values()], [runs, s.state.state]);
  const pitchDocument = typeof s.state.state.pitch_document === 'string' ? s.state.state.pitch_document : null;

  const subject = typeof s.state.state.PROMPT === 'string' ? s.state.state.PROMPT : session?.subject ?? null;
  const notFound = s.connection.status === 'not_found' || (s.load.status === 'error' && s.load.notFound);
  const title = notFound ? 'Session not found' : (session?.title ?? subject ?? 'New pitch');
  const lastRun = runs[runs.length - 1];
  // Read-only (retention or its owner): the composer waits; reads, downloads and branching go on.
  const archivedAt = session?.archived_at ?? null;
  // A branch that has not run yet: its copied run ends at the branch point, which the header says.
  const status = busy ? 'running' : lastRun && branchCut(lastRun) ? null : (lastRun?.status ?? session?.status ?? 'idle');

  // The sidebar's item for this session lags behind what the stream says: refresh the list, once
  // per difference. A new subject renames the session; a socket that (re)connects says whether a
  // run is active, which the list may not know (it started or ended elsewhere, or before the socket
  // connected: the replay a connection starts with is not news that reloads anything).
  const changeRef = useRef(onSessionChange);
  const sessionRef = useRef(session);
  useEffect(() => {
    changeRef.current = onSessionChange;
    sessionRef.current = session;
  });
  const stateSubject = typeof s.state.state.PROMPT === 'string' ? s.state.state.PROMPT : '';
  const listed = session !== undefined;
  const listedSubject = session?.subject ?? null;
  useEffect(() => {
    if (listed && stateSubject && stateSubject !== listedSubject) changeRef.current();
  }, [listed, stateSubject, listedSubject]);
  const hello = s.state.hello;
  useEffect(() => {
    const item = sessionRef.current;
    if (hello && item && (hello.activeRunId !== null) !== (item.status === 'running')) changeRef.current();
  }, [hello]);

  useEffect(() => {
    document.title = `${title} · Agente Films`;
    return () => {
      document.title = 'Agente Films';
    };
  }, [title]);

  // -- the producer's hand: regenerate, edit, undo, branch, compare
  const family = useBranchFamily(sessionId, session, sessions);
  const disabledReason = busy ? RUN_IN_PROGRESS_REASON : notFound ? 'This session was deleted.' : null;
  const outline = typeof s.state.state.PLOT_OUTLINE === 'string' ? s.state.state.PLOT_OUTLINE : '';
  const branch = async (point: BranchIn) => {
    const outcome = await family.branch(point);
    if (outcome.ok) onBranched?.(outcome.value);
    return outcome;
  };
  const familyVersions = useFamilyVersions(family.members, panel === 'story', s.state.documentsToken);
  const rounds = useMemo(() => draftRounds(runs), [runs]);
  const compareOptions = useMemo(
    () => [...localDraftOptions(sessionId, s.state.drafts, rounds), ...pitchOptions(sessionId, docs.pitches, THIS_SESSION), ...familyVersions.options],
    [sessionId, s.state.drafts, rounds, docs.pitches, familyVersions.options],
  );
  const openSession = (id: string) => onOpenSession?.(id);
  const branchOf = session && isBranch(session) ? session : null;

  const show = (p: Panel) => {
    setPanel(p);
    setMobile('panel');
  };

  const tabs = (inBar: boolean) => (
    <>
      <Tab testId="tab-team" active={panel === 'team' && (!inBar || mobile === 'panel')} onClick={() => show('team')} icon={Users} label="Team" badge={teamRun?.status === 'running' ? <span className="size-1.5 animate-pulse rounded-full bg-indigo-500" /> : null} />
      <Tab testId="tab-story" active={panel === 'story' && (!inBar || mobile === 'panel')} onClick={() => show('story')} icon={BookOpen} label="Story" badge={s.state.drafts.length > 0 ? <span className="text-xs text-zinc-400">{s.state.drafts.length}</span> : null} />
      <Tab testId="tab-docs" active={panel === 'docs' && (!inBar || mobile === 'panel')} onClick={() => show('docs')} icon={FileText} label="Documents" short="Docs" badge={docs.pitches.length > 0 ? <span className="text-xs text-zinc-400">{docs.pitches.length}</span> : null} />
    </>
  );

  return (
    <div className="flex min-h-0 flex-1 flex-col" data-testid="session-view" data-session-id={sessionId}>
      <TopBar
        onMenu={onMenu}
        right={
          <>
            {!notFound && archivedAt && <UnarchiveButton sessionId={sessionId} onUnarchived={onSessionChange} />}
            {!notFound && <ShareButton sessionId={sessionId} />}
            {headerRight(s.state.model)}
          </>
        }
      >
        <div className="flex min-w-0 items-center gap-2">
          <h1 className="truncate text-[0.9375rem] font-semibold tracking-tight" data-testid="session-heading">
            {title}
          </h1>
          {!notFound && status && <StatusPill status={status} className="shrink-0" />}
          {!notFound && archivedAt && <ArchivedBadge archivedAt={archivedAt} className="shrink-0" />}
        </div>
        {branchOf ? (
          <BranchOrigin session={branchOf} parent={family.parent} onOpen={openSession} />
        ) : (
          subject && subject !== title && <p className="truncate text-xs text-zinc-500">{subject}</p>
        )}
      </TopBar>
      <ConnectionBanner connection={s.connection} onRetry={s.retryNow} />
      <div className="flex shrink-0 gap-1 border-b border-zinc-200 bg-zinc-50 px-2 py-1.5 lg:hidden dark:border-zinc-800 dark:bg-zinc-900/50" role="tablist" aria-label="View">
        <Tab testId="tab-chat" active={mobile === 'chat'} onClick={() => setMobile('chat')} icon={MessageSquare} label="Chat" />
        {tabs(true)}
      </div>
      <div className="flex min-h-0 flex-1">
        <div className={cx('min-h-0 min-w-0 flex-1 flex-col', mobile === 'chat' ? 'flex' : 'hidden lg:flex')}>
          <ErrorBoundary label="chat">
            <ChatPanel
              runs={runs}
              pending={s.pending}
              pendingNotes={s.pendingNotes}
              refused={s.refused}
              sessionState={s.state.state}
              busy={busy}
              cancelling={s.cancelling}
              load={s.load}
              notices={s.state.notices}
              maxChars={info?.max_message_chars ?? 8000}
              maxRounds={maxRounds}
              composerDisabledReason={notFound ? 'This session was deleted; start a new pitch from the sidebar.' : archivedAt ? ARCHIVED_REASON : undefined}
              onSend={s.sendMessage}
              onStop={() => void s.cancel()}
              onResume={(runId) => void s.resume(runId)}
              onOpenTeam={() => show('team')}
              onDismissNotice={s.dismissNotice}
              onRetryLoad={() => void s.reload()}
              intro={branchOf ? <BranchIntro session={branchOf} parent={family.parent} onOpen={openSession} /> : undefined}
              placeholder={branchOf ? 'A note to take this branch another way, e.g. make it darker' : undefined}
            />
          </ErrorBoundary>
        </div>
        <aside
          aria-label="The team's work"
          className={cx(
            'min-h-0 flex-col border-zinc-200 bg-zinc-50/50 lg:w-[46%] lg:max-w-[46rem] lg:border-l dark:border-zinc-800 dark:bg-zinc-900/30',
            mobile === 'panel' ? 'flex flex-1 lg:flex-none' : 'hidden lg:flex',
          )}
        >
          <div className="hidden h-12 shrink-0 items-center gap-1 border-b border-zinc-200 px-3 lg:flex dark:border-zinc-800" role="tablist" aria-label="Panels">
            {tabs(false)}
          </div>
          <div className="scrollbar-thin min-h-0 flex-1 overflow-y-auto" data-testid={`panel-${panel}`}>
            <ErrorBoundary label={panel} key={panel}>
              {panel === 'team' && (
                <TeamPanel
                  runs={runs}
                  maxRounds={maxRounds}
                  actions={{
                    disabledReason,
                    regenerateReason: outline ? null : 'There is no pitch to regenerate yet: name a subject first.',
                    regenerate: s.regenerate,
                    branch,
                  }}
                />
              )}
              {panel === 'story' && (
                <StoryPanel
                  state={s.state.state}
                  drafts={s.state.drafts}
                  notes={notes}
                  sessionId={sessionId}
                  runs={runs}
                  actions={{ disabledReason, stateVersion: s.state.stateVersion, edit: s.edit, reloadState: s.reloadState, undo: s.undo, branch }}
                  compare={{ options: compareOptions, loading: familyVersions.loading, error: familyVersions.error, family: family.members.length > 0 }}
                />
              )}
              {panel === 'docs' && <DocumentsPanel pitches={docs.pitches} error={docs.error} loading={docs.loading} current={pitchDocument} />}
            </ErrorBoundary>
          </div>
        </aside>
      </div>
    </div>
  );
}
