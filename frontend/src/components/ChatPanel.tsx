import { ArrowDown, CircleStop, Clock, GitBranch, NotebookPen, PenLine, RefreshCw, RotateCcw, Sparkles, TriangleExclamationPoint, Undo2, X } from 'lucide-react';
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';

import { agentMeta } from '../stream/agents';
import type { Tone } from '../stream/frames';
import { branchCut, chatItems, FOLLOW_UP_PREFIX, isProducerChange, noteBook, noteStatusLabel, producerChangeText, regenerationText, splitQuestion, type NoteView } from '../stream/selectors';
import type { Notice, RunView } from '../stream/types';
import type { LoadState } from '../stream/useSession';
import { clockTime, cx } from '../lib/format';
import { Composer } from './Composer';
import { DocumentCard } from './DocumentCard';
import { Markdown } from './Markdown';
import { TeamProgressCard } from './TeamProgressCard';
import { ToolCall } from './ToolCall';
import { AgentAvatar, CriticVerdict, Spinner } from './ui';

export const SUGGESTIONS = ['Ada Lovelace', 'Hypatia of Alexandria', 'The Apollo 11 landing', 'Harriet Tubman'];

interface ChatPanelProps {
  runs: RunView[];
  pending: string | null;
  /** Notes sent while the team works, not yet acknowledged by the server. */
  pendingNotes?: string[];
  /** A note the server refused: its words go back into the composer. */
  refused?: { text: string; at: number } | null;
  /** The session state (its `producer_notes` tell where each note stands). */
  sessionState?: Record<string, unknown>;
  /** A run is at work: a message now is a note for the writers' room. */
  busy: boolean;
  cancelling: boolean;
  load: LoadState;
  notices: Notice[];
  maxChars: number;
  maxRounds: number | null;
  composerDisabledReason?: string;
  onSend: (text: string, direction: Tone[]) => Promise<boolean>;
  onStop: () => void;
  /** Continue an interrupted or failed run from its checkpoint. */
  onResume?: (runId: string) => void;
  onOpenTeam: () => void;
  onDismissNotice: (id: number) => void;
  onRetryLoad: () => void;
  /** Shown above the conversation (a branch says where it came from), and instead of the
   * suggestions while there is no conversation yet. */
  intro?: ReactNode;
  /** The composer's placeholder when no run works. */
  placeholder?: string;
}

function DirectionTags({ direction }: { direction: string[] }) {
  if (direction.length === 0) return null;
  return (
    <div className="mt-1 flex flex-wrap justify-end gap-1" data-testid="message-direction" aria-label="Direction">
      {direction.map((d) => (
        <span key={d} className="rounded-full bg-indigo-50 px-2 py-0.5 text-[0.6875rem] font-medium text-indigo-700 ring-1 ring-indigo-600/15 ring-inset dark:bg-indigo-500/10 dark:text-indigo-300">
          {d}
        </span>
      ))}
    </div>
  );
}

function UserBubble({ text, at }: { text: string; at?: string | number | null }) {
  // The server appends the chosen direction chips as a last line: shown as tags under the words.
  const { text: words, direction } = splitQuestion(text);
  return (
    <div className="flex flex-col items-end">
      <div
        data-testid="user-message"
        title={at ? `Sent ${clockTime(at)}` : undefined}
        className="max-w-[85%] rounded-2xl rounded-br-md bg-zinc-900 px-4 py-2.5 text-[0.9375rem] leading-relaxed whitespace-pre-wrap text-white shadow-sm dark:bg-zinc-100 dark:text-zinc-900"
      >
        {words}
      </div>
      <DirectionTags direction={direction} />
    </div>
  );
}

/** A run the server started by itself to apply notes said after the writers' room had finished. */
function FollowUpLine({ question }: { question: string }) {
  const notes = question.slice(FOLLOW_UP_PREFIX.length).trim();
  return (
    <p className="flex items-start justify-center gap-2 text-center text-sm text-zinc-500 dark:text-zinc-400" data-testid="follow-up">
      <NotebookPen aria-hidden className="mt-0.5 size-4 shrink-0" />
      <span>
        The team revises the pitch with your notes for the writers&apos; room{notes ? ': ' : '.'}
        {notes && <q className="text-zinc-700 dark:text-zinc-300">{notes}</q>}
      </span>
    </p>
  );
}

const NOTE_TONE: Record<string, string> = {
  sending: 'text-zinc-500 dark:text-zinc-400',
  queued: 'text-zinc-500 dark:text-zinc-400',
  kept: 'text-amber-700 dark:text-amber-300',
  taken: 'text-indigo-600 dark:text-indigo-300',
  addressed: 'text-emerald-700 dark:text-emerald-300',
  not_addressed: 'text-amber-700 dark:text-amber-300',
};

/** A producer's note in the chat: the person's words, marked as a note, with where it stands. */
export function NoteBubble({ text, note }: { text: string; note: NoteView | undefined }) {
  const status = note?.status ?? 'sending';
  return (
    <div className="flex justify-end">
      <div
        data-testid="producer-note"
        data-note-id={note?.id}
        data-status={status}
        className="max-w-[85%] rounded-2xl rounded-br-md border border-dashed border-zinc-300 bg-zinc-50 px-4 py-2.5 shadow-xs dark:border-zinc-700 dark:bg-zinc-900"
      >
        <div className="mb-0.5 flex flex-wrap items-center gap-x-1.5 text-xs font-medium">
          <NotebookPen aria-hidden className="size-3.5 text-zinc-400" />
          <span className="text-zinc-600 dark:text-zinc-300">Note for the writers&apos; room</span>
          <span aria-hidden className="text-zinc-300 dark:text-zinc-600">·</span>
          <span data-testid="note-status" className={NOTE_TONE[status]}>
            {status === 'sending' && <Spinner className="mr-1 inline size-3 align-[-2px]" />}
            {noteStatusLabel(note)}
          </span>
        </div>
        <div data-testid="note-text" className="text-[0.9375rem] leading-relaxed whitespace-pre-wrap text-zinc-900 dark:text-zinc-100">
          {text}
        </div>
        {note?.verdict && (note.status === 'addressed' || note.status === 'not_addressed') && (
          <CriticVerdict verdict={note.verdict} className="mt-1.5 border-t border-zinc-200 pt-1.5 dark:border-zinc-800" />
        )}
      </div>
    </div>
  );
}

/** The producer's own change, in one line: an edit by hand or an undo (a run without agents). */
function ProducerChangeLine({ run }: { run: RunView }) {
  const Icon = run.kind === 'undo' ? Undo2 : PenLine;
  return (
    <section className="flex justify-center" data-testid="producer-change" data-kind={run.kind} data-run-id={run.id}>
      <p className="inline-flex max-w-full items-center gap-2 rounded-full border border-zinc-200 bg-zinc-50 px-3 py-1 text-xs text-zinc-600 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-400">
        <Icon aria-hidden className="size-3.5 shrink-0" />
        <span className="min-w-0 truncate" title={run.question}>
          {producerChangeText(run)}
        </span>
        {run.startedAt && <span className="shrink-0 text-zinc-400">· {clockTime(run.startedAt)}</span>}
        {run.status === 'failed' && <span className="shrink-0 text-rose-600">· failed</span>}
      </p>
    </section>
  );
}

/** A regeneration the person asked for from the team panel, instead of their words. */
function RegenerateLine({ run }: { run: RunView }) {
  return (
    <p className="flex items-center justify-end gap-2 text-sm text-zinc-600 dark:text-zinc-400" data-testid="regenerate-line">
      <RefreshCw aria-hidden className="size-4 shrink-0" />
      <span>
        You asked the team to redo <strong className="font-medium text-zinc-900 dark:text-zinc-100">{regenerationText(run)}</strong>
      </span>
    </p>
  );
}

function AgentMessage({ agent, text, streaming }: { agent: string; text: string; streaming: boolean }) {
  return (
    <div className="flex gap-3" data-testid="assistant-message" data-agent={agent} data-streaming={streaming ? 'true' : 'false'}>
      <AgentAvatar agent={agent} />
      <div className="min-w-0 flex-1">
        <div className="mb-0.5 text-xs font-medium text-zinc-500 dark:text-zinc-400">{agentMeta(agent).label}</div>
        <Markdown text={text} streaming={streaming} />
      </div>
    </div>
  );
}

function RunFooter({ run, onResume }: { run: RunView; onResume?: (runId: string) => void }) {
  if (run.status === 'running' && run.queuedAhead !== null) {
    return (
      <p className="flex items-center gap-2 text-sm text-zinc-500 dark:text-zinc-400" data-testid="run-status" data-status="queued" role="status">
        <Clock aria-hidden className="size-4" /> The studio is busy with other pitches; yours starts as soon as a team is free
        {run.queuedAhead > 0 ? ` (${run.queuedAhead} ahead of it)` : ''}.
      </p>
    );
  }
  const cut = branchCut(run);
  if (cut) {
    return (
      <p className="flex items-center gap-2 text-sm text-violet-700 dark:text-violet-300" data-testid="run-status" data-status="branched">
        <GitBranch aria-hidden className="size-4 shrink-0" /> {cut} What the team did after it stays in the parent session.
      </p>
    );
  }
  if (run.status === 'cancelled') {
    return (
      <p className="flex items-center gap-2 text-sm text-zinc-500 dark:text-zinc-400" data-testid="run-status" data-status="cancelled">
        <CircleStop aria-hidden className="size-4" /> Stopped. The work done so far is kept{run.teamStarted ? ' in the team panel' : ''}.
      </p>
    );
  }
  if (run.status === 'failed' || run.status === 'interrupted') {
    const interrupted = run.status === 'interrupted';
    // The server says whether the run has a checkpoint to resume from (RUN_ERROR.resumable).
    const canResume = Boolean(onResume) && run.resumable;
    return (
      <div
        role="alert"
        data-testid="run-status"
        data-status={run.status}
        className={cx(
          'flex gap-2.5 rounded-xl border px-3.5 py-3 text-sm',
          interrupted
            ? 'border-amber-200 bg-amber-50 text-amber-900 dark:border-amber-500/20 dark:bg-amber-500/10 dark:text-amber-200'
            : 'border-rose-200 bg-rose-50 text-rose-900 dark:border-rose-500/20 dark:bg-rose-500/10 dark:text-rose-200',
        )}
      >
        <TriangleExclamationPoint aria-hidden className="mt-0.5 size-4 shrink-0" />
        <div>
          <div className="font-medium">{interrupted ? 'This run was interrupted' : 'This run failed'}</div>
          <div className="mt-0.5 opacity-90">{run.error ?? (interrupted ? 'The server stopped during the run.' : 'An agent failed.')}</div>
          {!interrupted && (
            <div className="mt-1 text-xs opacity-75">
              {canResume ? 'The work done so far is kept. Resume the run, or send the message again.' : 'Send the message again to retry.'}
            </div>
          )}
          {canResume && (
            <button
              type="button"
              onClick={() => onResume?.(run.id)}
              data-testid="resume-button"
              className="mt-2 inline-flex items-center gap-1.5 rounded-lg bg-white/70 px-2.5 py-1 text-xs font-medium ring-1 ring-current/20 hover:bg-white dark:bg-white/10 dark:hover:bg-white/15"
            >
              <RotateCcw aria-hidden className="size-3.5" /> Resume where it stopped
            </button>
          )}
        </div>
      </div>
    );
  }
  return null;
}

function RunBlock({ run, notes, pendingNotes = [], maxRounds, onOpenTeam, onResume }: { run: RunView; notes: Map<string, NoteView>; pendingNotes?: string[]; maxRounds: number | null; onOpenTeam: () => void; onResume?: (runId: string) => void }) {
  if (isProducerChange(run)) return <ProducerChangeLine run={run} />;
  const items = chatItems(run, notes);
  const waiting = run.status === 'running' && items.filter((i) => i.kind !== 'note').length === 0;
  return (
    <section className="space-y-4" data-testid="run" data-run-id={run.id} data-status={run.status}>
      {run.kind === 'regenerate' ? (
        <RegenerateLine run={run} />
      ) : run.question.startsWith(FOLLOW_UP_PREFIX) ? (
        <FollowUpLine question={run.question} />
      ) : (
        <UserBubble text={run.question} at={run.startedAt} />
      )}
      {items.map((item) => {
        switch (item.kind) {
          case 'note':
            return <NoteBubble key={item.entry.id} text={item.note?.text || item.entry.text} note={item.note} />;
          case 'message':
            return <AgentMessage key={item.entry.id} agent={item.entry.agent} text={item.entry.text} streaming={!item.entry.done && run.status === 'running'} />;
          case 'tool':
            return (
              <div key={item.entry.id} className="pl-10">
                <ToolCall entry={item.entry} />
              </div>
            );
          case 'team':
            return (
              <div key={`team-${run.id}`} className="pl-10">
                <TeamProgressCard run={run} maxRounds={maxRounds} onOpen={onOpenTeam} />
              </div>
            );
          case 'artifact':
            return (
              <div key={item.entry.id} className="pl-10">
                <DocumentCard {...item.entry} />
              </div>
            );
          case 'error':
            return (
              <div key={item.id} role="alert" className="ml-10 rounded-lg border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-900 dark:border-rose-500/20 dark:bg-rose-500/10 dark:text-rose-200">
                {agentMeta(item.agent).label}: {item.message}
              </div>
            );
        }
      })}
      {waiting && (
        <div className="flex items-center gap-3 text-sm text-zinc-500" data-testid="thinking">
          <AgentAvatar agent="greeter" />
          <span className="flex items-center gap-2">
            <Spinner /> The greeter is reading your message…
          </span>
        </div>
      )}
      {pendingNotes.map((text, i) => (
        <NoteBubble key={`pending-${i}`} text={text} note={undefined} />
      ))}
      <RunFooter run={run} onResume={onResume} />
    </section>
  );
}

function ChatEmpty({ onPick, disabled }: { onPick: (s: string) => void; disabled: boolean }) {
  return (
    <div className="flex flex-1 flex-col items-center justify-center px-4 py-10 text-center" data-testid="chat-empty">
      <div className="mb-5 flex size-12 items-center justify-center rounded-2xl bg-gradient-to-br from-indigo-500 to-violet-600 text-white shadow-lg shadow-indigo-500/20">
        <Sparkles aria-hidden className="size-6" />
      </div>
      <h2 className="text-xl font-semibold tracking-tight">Who should the film be about?</h2>
      <p className="mt-2 max-w-md text-sm leading-relaxed text-zinc-500 dark:text-zinc-400">
        Name a historical figure or event. A researcher, a screenwriter and a critic work it into an outline, a box-office analyst and a
        casting director weigh in, and you get a pitch document to download.
      </p>
      <div className="mt-6 flex flex-wrap justify-center gap-2">
        {SUGGESTIONS.map((s) => (
          <button
            key={s}
            type="button"
            disabled={disabled}
            onClick={() => onPick(s)}
            className="rounded-full border border-zinc-200 bg-white px-3.5 py-1.5 text-sm text-zinc-700 shadow-xs transition-colors hover:border-zinc-300 hover:bg-zinc-50 disabled:opacity-50 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-300 dark:hover:bg-zinc-800"
          >
            {s}
          </button>
        ))}
      </div>
    </div>
  );
}

export function ChatPanel(props: ChatPanelProps) {
  const { runs, pending, busy, load, notices, pendingNotes = [] } = props;
  const notes = useMemo(() => noteBook(runs, props.sessionState), [runs, props.sessionState]);
  const [direction, setDirection] = useState<Tone[]>([]);
  const pick = (text: string) => {
    void props.onSend(text, direction).then((ok) => ok && setDirection([]));
  };
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const [showJump, setShowJump] = useState(false);
  const pendingShown = pending !== null && !runs.some((r) => r.status === 'running' && splitQuestion(r.question).text === pending);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    stick.current = atBottom;
    setShowJump(!atBottom);
  };

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  });

  // A new run (a message was just sent) always scrolls down.
  useEffect(() => {
    stick.current = true;
  }, [runs.length, pending, pendingNotes.length]);

  const jump = () => {
    const el = scroller.current;
    if (el) el.scrollTo({ top: el.scrollHeight, behavior: 'smooth' });
    stick.current = true;
  };

  const empty = runs.length === 0 && !pendingShown;
  return (
    <div className="relative flex min-h-0 flex-1 flex-col" data-testid="chat-panel">
      <div ref={scroller} onScroll={onScroll} className="scrollbar-thin flex min-h-0 flex-1 flex-col overflow-y-auto" aria-live="polite" aria-busy={busy}>
        {load.status === 'error' && (
          <div role="alert" className="mx-auto mt-6 w-full max-w-3xl px-4">
            <div className="rounded-xl border border-rose-200 bg-rose-50 p-4 text-sm text-rose-900 dark:border-rose-500/20 dark:bg-rose-500/10 dark:text-rose-200">
              <div className="font-medium">{load.notFound ? 'This session does not exist (any more).' : 'Could not load this session.'}</div>
              <div className="mt-1 opacity-90">{load.message}</div>
              {!load.notFound && (
                <button type="button" onClick={props.onRetryLoad} className="mt-2 font-medium underline">
                  Try again
                </button>
              )}
            </div>
          </div>
        )}
        {load.status === 'loading' && runs.length === 0 ? (
          <div className="flex flex-1 items-center justify-center gap-2 text-sm text-zinc-500">
            <Spinner /> Loading the conversation…
          </div>
        ) : empty && load.status !== 'error' && !props.intro ? (
          <ChatEmpty onPick={pick} disabled={busy} />
        ) : (
          <div className="mx-auto w-full max-w-3xl space-y-8 px-4 py-6 sm:px-6">
            {props.intro}
            {runs.map((run, i) => (
              <RunBlock
                key={run.id}
                run={run}
                notes={notes}
                pendingNotes={i === runs.length - 1 ? pendingNotes : undefined}
                maxRounds={props.maxRounds}
                onOpenTeam={props.onOpenTeam}
                onResume={i === runs.length - 1 && !busy ? props.onResume : undefined}
              />
            ))}
            {pendingShown && (
              <section className="space-y-4 opacity-80">
                <UserBubble text={pending} />
                <div className="flex items-center gap-2 pl-10 text-sm text-zinc-500">
                  <Spinner /> Sending…
                </div>
              </section>
            )}
          </div>
        )}
      </div>
      {showJump && (
        <button
          type="button"
          onClick={jump}
          className="absolute bottom-36 left-1/2 z-10 inline-flex -translate-x-1/2 items-center gap-1 rounded-full border border-zinc-200 bg-white px-3 py-1.5 text-xs font-medium shadow-md dark:border-zinc-700 dark:bg-zinc-900"
        >
          <ArrowDown aria-hidden className="size-3.5" /> Latest
        </button>
      )}
      <div className="shrink-0 border-t border-zinc-100 bg-white/80 px-4 pt-3 pb-[max(0.75rem,env(safe-area-inset-bottom))] backdrop-blur sm:px-6 dark:border-zinc-900 dark:bg-zinc-950/80">
        {notices.length > 0 && (
          <ul className="mx-auto mb-2 w-full max-w-3xl space-y-1.5" data-testid="notices">
            {notices.map((n) => (
              <li
                key={n.id}
                role="alert"
                data-code={n.code}
                className="flex items-start gap-2 rounded-lg border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-900 dark:border-rose-500/20 dark:bg-rose-500/10 dark:text-rose-200"
              >
                <TriangleExclamationPoint aria-hidden className="mt-0.5 size-4 shrink-0" />
                <span className="flex-1">{n.message}</span>
                <button type="button" aria-label="Dismiss" onClick={() => props.onDismissNotice(n.id)} className="opacity-60 hover:opacity-100">
                  <X aria-hidden className="size-4" />
                </button>
              </li>
            ))}
          </ul>
        )}
        <Composer
          busy={pendingShown && !busy}
          running={busy}
          direction={direction}
          onDirectionChange={setDirection}
          cancelling={props.cancelling}
          disabled={Boolean(props.composerDisabledReason)}
          disabledReason={props.composerDisabledReason}
          maxChars={props.maxChars}
          placeholder={props.placeholder}
          onSend={props.onSend}
          restore={props.refused}
          onStop={busy ? props.onStop : undefined}
          autoFocus
        />
      </div>
    </div>
  );
}
