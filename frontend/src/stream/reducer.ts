/**
 * The pure reducer of a session's stream: socket frames and REST loads in, view model out.
 * Frames carry a per-session `seq`; a frame at or below the last applied seq is a replay and is
 * ignored, so reconnecting with `after=lastSeq` (or replaying everything) never duplicates text.
 */
import { applyPatch, type Operation } from 'fast-json-patch';

import { isWriter, FILM_TEAM } from './agents';
import type { ControlMessage, Frame, JsonPatchOp, ServerMessage, StepFrame } from './frames';
import { isControl } from './frames';
import type { Draft, Entry, NoteRound, RunKind, RunNote, RunStage, RunStatus, RunView, SessionStreamState } from './types';

export type StreamAction =
  | { type: 'frame'; frame: ServerMessage }
  | { type: 'history'; runs: RunView[] }
  | { type: 'state'; version: number; state: Record<string, unknown> }
  | { type: 'drafts'; drafts: Draft[] }
  | { type: 'notice'; code: string; message: string }
  | { type: 'dismissNotice'; id: number };

export function initialStreamState(sessionId: string): SessionStreamState {
  return {
    sessionId,
    stream: null,
    lastSeq: 0,
    live: {},
    liveOrder: [],
    history: {},
    historyOrder: [],
    historyLoaded: false,
    activeRunId: null,
    model: null,
    state: {},
    stateVersion: 0,
    drafts: [],
    notices: [],
    refreshToken: 0,
    replayUntil: 0,
    hello: null,
    documentsToken: 0,
    runsToken: 0,
    runsEndedToken: 0,
    nextNoticeId: 1,
  };
}

export const PLOT_OUTLINE = 'PLOT_OUTLINE';
const RUN_STATUSES: readonly RunStatus[] = ['running', 'completed', 'failed', 'cancelled', 'interrupted'];

export function toRunStatus(value: string | undefined | null, fallback: RunStatus = 'completed'): RunStatus {
  return RUN_STATUSES.includes(value as RunStatus) ? (value as RunStatus) : fallback;
}

export function newRun(id: string, question: string, source: RunView['source'], kind: RunKind = 'message', stage: RunStage | null = null): RunView {
  return {
    id,
    question,
    kind,
    stage,
    status: 'running',
    error: null,
    source,
    startedAt: null,
    finishedAt: null,
    entries: [],
    steps: {},
    round: 0,
    maxRounds: null,
    loopExit: null,
    teamStarted: false,
    usage: null,
    queuedAhead: null,
    resumable: false,
    notes: [],
    revision: null,
  };
}

/** A past run from the frames the server rebuilt (GET /timeline): the same reducer as live. */
export function runFromFrames(runId: string, frames: Frame[]): RunView {
  let run = newRun(runId, '', 'history');
  for (const frame of frames) {
    if (frame.type === 'RUN_STARTED') run = { ...run, question: frame.question, kind: frame.kind ?? 'message', stage: frame.stage ?? null, startedAt: frame.timestamp ?? null };
    else run = applyRunFrame(run, frame);
  }
  return run;
}

/**
 * The outline drafts a past run wrote, from its frames (GET /timeline): each state change that set
 * a non-empty outline, as live STATE_DELTA frames give them. The timeline carries the whole delta,
 * so no draft needs a request of its own.
 */
export function draftsFromFrames(runId: string, frames: Frame[]): Draft[] {
  const drafts: Draft[] = [];
  for (const frame of frames) {
    if (frame.type !== 'STATE_DELTA' || frame.version === null || frame.version === undefined) continue;
    const outline = frame.delta.find((op) => op.path === `/${PLOT_OUTLINE}`);
    if (!outline || typeof outline.value !== 'string' || !outline.value.trim()) continue;
    drafts.push({ version: frame.version, text: outline.value, agent: frame.agent ?? null, runId: frame.runId ?? runId, at: frame.timestamp ?? null });
  }
  return drafts;
}

export function streamReducer(state: SessionStreamState, action: StreamAction): SessionStreamState {
  switch (action.type) {
    case 'frame':
      return applyFrame(state, action.frame);
    case 'history': {
      const history: Record<string, RunView> = {};
      for (const run of action.runs) history[run.id] = run;
      return { ...state, history, historyOrder: action.runs.map((r) => r.id), historyLoaded: true };
    }
    case 'state':
      // A snapshot older than what the socket already applied would roll the state back.
      if (action.version < state.stateVersion) return state;
      return { ...state, state: action.state, stateVersion: action.version };
    case 'drafts':
      return { ...state, drafts: mergeDrafts(state.drafts, action.drafts) };
    case 'notice':
      return addNotice(state, action.code, action.message);
    case 'dismissNotice':
      return { ...state, notices: state.notices.filter((n) => n.id !== action.id) };
  }
}

function addNotice(state: SessionStreamState, code: string, message: string): SessionStreamState {
  const notices = [...state.notices.filter((n) => n.code !== code), { id: state.nextNoticeId, code, message }];
  return { ...state, notices: notices.slice(-3), nextNoticeId: state.nextNoticeId + 1 };
}

export function mergeDrafts(existing: Draft[], incoming: Draft[]): Draft[] {
  const byVersion = new Map<number, Draft>();
  for (const d of existing) byVersion.set(d.version, d);
  for (const d of incoming) if (d.text.trim()) byVersion.set(d.version, { ...byVersion.get(d.version), ...d });
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}

/** Runs seen live are kept as history placeholders until the REST history replaces them. */
function resetStream(state: SessionStreamState, stream: string): SessionStreamState {
  const history = { ...state.history };
  const historyOrder = [...state.historyOrder];
  for (const id of state.liveOrder) {
    const run = state.live[id];
    if (run && !history[id]) {
      history[id] = { ...run, source: 'history' };
      historyOrder.push(id);
    }
  }
  return {
    ...state,
    stream,
    lastSeq: 0,
    live: {},
    liveOrder: [],
    history,
    historyOrder,
    refreshToken: state.refreshToken + 1,
    replayUntil: 0,
  };
}

function applyFrame(state: SessionStreamState, message: ServerMessage): SessionStreamState {
  if (isControl(message)) return applyControl(state, message);
  const seq = message.seq ?? null;
  if (seq === null) return noteNews(applyStreamFrame(state, message), message);
  if (seq <= state.lastSeq) return state; // a replay of something already applied
  const next: SessionStreamState = { ...state, lastSeq: seq };
  // The first connection's replay tells what the REST loads read too: it builds the view, but
  // reloads nothing.
  const applied = applyStreamFrame(next, message);
  return seq <= state.replayUntil ? applied : noteNews(applied, message);
}

/** A frame that is news to this page: what it may have changed elsewhere (the session list, the documents). */
function noteNews(after: SessionStreamState, frame: Frame): SessionStreamState {
  let next = after;
  if (frame.type === 'CUSTOM' && frame.name === 'artifact_saved') next = { ...next, documentsToken: next.documentsToken + 1 };
  const started = frame.type === 'RUN_STARTED';
  // A run's end, or the end of a run whose start we never saw (the reducer asked the history).
  const ended = frame.type === 'RUN_FINISHED' || frame.type === 'RUN_ERROR';
  if (started || ended) next = { ...next, runsToken: next.runsToken + 1 };
  if (ended) next = { ...next, runsEndedToken: next.runsEndedToken + 1 };
  return next;
}

function applyControl(state: SessionStreamState, message: ControlMessage): SessionStreamState {
  if (message.control === 'hello') {
    const hello = message;
    const stream = hello.stream ?? '';
    let next: SessionStreamState = {
      ...state,
      model: hello.model,
      activeRunId: hello.activeRunId ?? null,
      hello: { activeRunId: hello.activeRunId ?? null, lastSeq: hello.lastSeq },
    };
    if (state.stream === null) {
      next.stream = stream;
      next.replayUntil = hello.lastSeq;
    }
    else if (state.stream !== stream) next = resetStream(next, stream);
    else if (hello.activeRunId === null && Object.values(state.live).some((r) => r.status === 'running')) {
      // A run we saw running is no longer active and we missed its end: ask the history.
      next = { ...next, refreshToken: next.refreshToken + 1 };
    }
    return next;
  }
  if (message.control === 'resync') {
    const { reason } = message;
    const stream = message.stream ?? '';
    if (reason === 'frames trimmed' && stream === state.stream) {
      // Frames went missing but the stream goes on: keep what we have, reload the rest over REST.
      return { ...state, refreshToken: state.refreshToken + 1 };
    }
    return resetStream(state, stream);
  }
  if (message.control === 'error') {
    if (message.code === 'session_not_found') return state; // the view says so in place
    let next = addNotice(state, message.code, message.message);
    if (message.code === 'run_in_progress' && message.runId) next = { ...next, activeRunId: message.runId };
    return next;
  }
  if (message.control === 'run_ended') {
    // The stream could not carry the run's end (Redis down): the server told us directly.
    const run = state.live[message.runId];
    const live = run ? { ...state.live, [run.id]: finishRun(run, message.status, message.error ?? null, undefined) } : state.live;
    return {
      ...state,
      live,
      activeRunId: state.activeRunId === message.runId ? null : state.activeRunId,
      refreshToken: state.refreshToken + 1,
      runsToken: state.runsToken + 1,
      runsEndedToken: state.runsEndedToken + 1,
    };
  }
  return state;
}

function applyStreamFrame(state: SessionStreamState, frame: Frame): SessionStreamState {
  // Session state changes whatever run they belong to (and even when we missed the run's start).
  if (frame.type === 'STATE_DELTA') state = applyStateDelta(state, frame.delta, frame.version, frame.agent ?? undefined, frame.runId ?? null, frame.timestamp ?? undefined);
  if (frame.type === 'STATE_SNAPSHOT' && frame.version >= state.stateVersion) {
    state = { ...state, state: (frame.snapshot ?? {}) as Record<string, unknown>, stateVersion: frame.version };
  }

  if (frame.type === 'RUN_STARTED') {
    const id = frame.runId;
    // A resumed run goes on from what it had done; a new one starts empty.
    const earlier = frame.resumed ? (state.live[id] ?? state.history[id]) : undefined;
    const run: RunView = earlier
      ? { ...earlier, source: 'live', status: 'running', error: null, finishedAt: null }
      : { ...newRun(id, frame.question, 'live', frame.kind ?? 'message', frame.stage ?? null), startedAt: frame.timestamp ?? null };
    return {
      ...state,
      live: { ...state.live, [id]: run },
      liveOrder: state.liveOrder.includes(id) ? state.liveOrder : [...state.liveOrder, id],
      activeRunId: id,
    };
  }

  const runId = frame.runId ?? undefined;
  const run = runId ? state.live[runId] : undefined;
  if (!runId || !run) {
    // Part of a run whose start we never saw (frames trimmed): the REST history tells its story.
    if (frame.type === 'RUN_FINISHED' || frame.type === 'RUN_ERROR') {
      return {
        ...state,
        activeRunId: state.activeRunId === runId ? null : state.activeRunId,
        refreshToken: state.refreshToken + 1,
      };
    }
    return state;
  }

  const updated = applyRunFrame(run, frame);
  if (updated === run) return state;
  let activeRunId = state.activeRunId;
  if (updated.status !== 'running' && activeRunId === run.id) activeRunId = null;
  return { ...state, live: { ...state.live, [run.id]: updated }, activeRunId };
}

function applyStateDelta(
  state: SessionStreamState,
  delta: JsonPatchOp[],
  version: number | null,
  agent: string | undefined,
  runId: string | null,
  at: number | undefined,
): SessionStreamState {
  let next = state;
  if (version === null || version > state.stateVersion) {
    try {
      const patched = applyPatch(structuredClone(state.state), delta as Operation[], false, false).newDocument;
      next = { ...next, state: patched, stateVersion: version ?? state.stateVersion };
    } catch {
      next = { ...next, refreshToken: next.refreshToken + 1 }; // a patch that does not apply: reload
    }
  }
  const outline = delta.find((op) => op.path === `/${PLOT_OUTLINE}`);
  if (outline && typeof outline.value === 'string' && outline.value.trim() && version !== null) {
    next = {
      ...next,
      drafts: mergeDrafts(next.drafts, [{ version, text: outline.value, agent: agent ?? null, runId, at: at ?? null }]),
    };
  }
  return next;
}

// -- one run ----------------------------------------------------------------------------------

function roundFor(run: RunView, agent: string | undefined): number | undefined {
  if (!isWriter(agent)) return undefined;
  return run.steps[agent]?.iteration ?? (run.round || undefined);
}

function findEntry(entries: Entry[], id: string, kind: Entry['kind']): number {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i];
    if (e && e.id === id && e.kind === kind) return i;
  }
  return -1;
}

function replaceAt(entries: Entry[], index: number, entry: Entry): Entry[] {
  const copy = entries.slice();
  copy[index] = entry;
  return copy;
}

function applyStep(run: RunView, frame: StepFrame): RunView {
  const agent = frame.agent || frame.stepName;
  const running = frame.type === 'STEP_STARTED';
  const previous = run.steps[agent];
  const step = {
    agent,
    kind: frame.agentKind ?? undefined,
    parent: frame.parent ?? undefined,
    status: running ? ('running' as const) : ('done' as const),
    iteration: frame.iteration ?? previous?.iteration,
    maxIterations: frame.maxIterations ?? previous?.maxIterations,
    handedOffTo: frame.handedOffTo ?? undefined,
    // Passed over in a revision: said on the step's end (or already on its start).
    kept: frame.kept || (!running && previous?.status === 'running' && previous.kept) || undefined,
  };
  const next: RunView = { ...run, steps: { ...run.steps, [agent]: step } };
  if (typeof frame.iteration === 'number') next.round = Math.max(run.round, frame.iteration);
  if (typeof frame.maxIterations === 'number') next.maxRounds = frame.maxIterations;
  if (agent !== 'greeter') next.teamStarted = true;
  return next;
}

export function applyRunFrame(run: RunView, frame: Frame): RunView {
  // Any sign of work (or the end) means the run left the queue.
  if (run.queuedAhead !== null && !(frame.type === 'CUSTOM' && frame.name === 'run_queued')) run = { ...run, queuedAhead: null };
  switch (frame.type) {
    case 'STEP_STARTED':
    case 'STEP_FINISHED':
      return applyStep(run, frame);
    case 'TEXT_MESSAGE_START': {
      if (findEntry(run.entries, frame.messageId, 'message') >= 0) return run;
      const agent = frame.agent ?? 'assistant';
      const entry: Entry = { kind: 'message', id: frame.messageId, agent, text: '', done: false, round: roundFor(run, agent), at: frame.timestamp ?? undefined };
      return { ...run, entries: [...run.entries, entry] };
    }
    case 'TEXT_MESSAGE_CONTENT': {
      const index = findEntry(run.entries, frame.messageId, 'message');
      if (index < 0) {
        const agent = frame.agent ?? 'assistant';
        const entry: Entry = { kind: 'message', id: frame.messageId, agent, text: frame.delta, done: false, round: roundFor(run, agent), at: frame.timestamp ?? undefined };
        return { ...run, entries: [...run.entries, entry] };
      }
      const entry = run.entries[index];
      if (entry?.kind !== 'message') return run;
      return { ...run, entries: replaceAt(run.entries, index, { ...entry, text: entry.text + frame.delta }) };
    }
    case 'TEXT_MESSAGE_END': {
      const index = findEntry(run.entries, frame.messageId, 'message');
      const entry = run.entries[index];
      if (entry?.kind !== 'message' || entry.done) return run;
      return { ...run, entries: replaceAt(run.entries, index, { ...entry, done: true }) };
    }
    case 'TOOL_CALL_START': {
      if (findEntry(run.entries, frame.toolCallId, 'tool') >= 0) return run;
      const agent = frame.agent ?? 'assistant';
      const entry: Entry = { kind: 'tool', id: frame.toolCallId, agent, name: frame.toolCallName, args: '', done: false, round: roundFor(run, agent), at: frame.timestamp ?? undefined };
      const next = { ...run, entries: [...run.entries, entry] };
      if (frame.toolCallName === 'transfer_to_agent') next.teamStarted = next.teamStarted || agent === 'greeter';
      return next;
    }
    case 'TOOL_CALL_ARGS': {
      const index = findEntry(run.entries, frame.toolCallId, 'tool');
      const entry = run.entries[index];
      if (entry?.kind !== 'tool') return run;
      return { ...run, entries: replaceAt(run.entries, index, { ...entry, args: entry.args + frame.delta }) };
    }
    case 'TOOL_CALL_END':
      return run;
    case 'TOOL_CALL_RESULT': {
      const index = findEntry(run.entries, frame.toolCallId, 'tool');
      const entry = run.entries[index];
      if (entry?.kind !== 'tool') {
        const agent = frame.agent ?? 'assistant';
        const created: Entry = { kind: 'tool', id: frame.toolCallId, agent, name: frame.toolName ?? 'tool', args: '', result: frame.content, done: true, round: roundFor(run, agent), at: frame.timestamp ?? undefined };
        return { ...run, entries: [...run.entries, created] };
      }
      return { ...run, entries: replaceAt(run.entries, index, { ...entry, result: frame.content, done: true }) };
    }
    case 'STATE_DELTA': {
      const agent = frame.agent ?? 'assistant';
      const keys = frame.delta.map((op) => op.path.replace(/^\//, '').split('/')[0] ?? '').filter(Boolean);
      const entry: Entry = { kind: 'state', id: `state-${frame.seq ?? frame.version}`, agent, keys, version: frame.version ?? null, round: roundFor(run, agent), at: frame.timestamp ?? undefined };
      return { ...run, entries: [...run.entries, entry] };
    }
    case 'CUSTOM':
      return applyCustom(run, frame.name, frame.value, frame.seq ?? undefined, frame.timestamp ?? undefined);
    case 'RUN_FINISHED': {
      const status = toRunStatus(frame.result.status ?? 'completed');
      return {
        ...finishRun(run, status, frame.result.error ?? null, frame.timestamp ?? undefined),
        resumable: false,
        branchedAt: frame.result.branchedAt ?? null,
      };
    }
    case 'RUN_ERROR': {
      const status = frame.status === 'interrupted' ? 'interrupted' : 'failed';
      return { ...finishRun(run, status, frame.message, frame.timestamp ?? undefined), resumable: frame.resumable };
    }
    default:
      return run;
  }
}

function applyCustom(run: RunView, name: string, value: unknown, seq: number | undefined, at: number | undefined): RunView {
  const v = (value ?? {}) as Record<string, unknown>;
  if (name === 'artifact_saved') {
    const entry: Entry = {
      kind: 'artifact',
      id: `artifact-${String(v.filename)}-${String(v.version)}`,
      agent: typeof v.agent === 'string' ? v.agent : 'file_writer',
      filename: String(v.filename ?? 'pitch.md'),
      version: Number(v.version ?? 0),
      markdownUrl: String(v.markdownUrl ?? ''),
      pdfUrl: String(v.pdfUrl ?? ''),
      at,
    };
    if (findEntry(run.entries, entry.id, 'artifact') >= 0) return run;
    return { ...run, entries: [...run.entries, entry] };
  }
  if (name === 'loop_exit') {
    const iteration = typeof v.iteration === 'number' ? v.iteration : null;
    return { ...run, loopExit: { agent: String(v.agent ?? 'critic'), iteration } };
  }
  if (name === 'agent_transfer') {
    return v.to === FILM_TEAM ? { ...run, teamStarted: true } : run;
  }
  if (name === 'usage') {
    const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
    const previous = run.usage ?? { calls: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 };
    return {
      ...run,
      usage: {
        calls: previous.calls + 1,
        promptTokens: previous.promptTokens + num(v.promptTokens),
        completionTokens: previous.completionTokens + num(v.completionTokens),
        costUsd: typeof v.runCostUsd === 'number' ? v.runCostUsd : previous.costUsd + num(v.costUsd),
      },
    };
  }
  if (name === 'run_queued') {
    return { ...run, queuedAhead: typeof v.ahead === 'number' ? v.ahead : 0 };
  }
  if (name === 'note_received' || name === 'note_taken' || name === 'note_verdict') {
    return applyNote(run, name, v, at);
  }
  if (name === 'agent_error') {
    const agent = typeof v.agent === 'string' ? v.agent : 'agent';
    const entry: Entry = { kind: 'error', id: `agent-error-${seq}`, agent, message: String(v.message ?? 'The agent failed.'), round: roundFor(run, agent) };
    return { ...run, entries: [...run.entries, entry] };
  }
  return run;
}

/** A producer's note moving along: said (queued, or kept for the next run), taken at a round's
 * start, judged by the critic. Each frame sets where the note stands, in the order they come. */
function applyNote(run: RunView, name: 'note_received' | 'note_taken' | 'note_verdict', v: Record<string, unknown>, at: number | undefined): RunView {
  const id = typeof v.noteId === 'string' ? v.noteId : '';
  if (!id) return run;
  const text = typeof v.text === 'string' ? v.text : '';
  const index = run.notes.findIndex((n) => n.id === id);
  const before: RunNote = run.notes[index] ?? { id, text, received: false, status: 'queued', revision: null, rounds: [], at };
  let note: RunNote = { ...before, text: text || before.text };
  let entries = run.entries;
  let revision = run.revision;

  if (name === 'note_received') {
    const kept = v.keptForNextRun === true;
    if (kept) note = { ...note, received: true, status: 'kept' };
    else if (!before.received) note = { ...note, received: true, at: at ?? before.at };
    if (findEntry(entries, `note-${id}`, 'note') < 0) {
      entries = [...entries, { kind: 'note', id: `note-${id}`, agent: 'producer', noteId: id, text: note.text, at }];
    }
  } else if (name === 'note_taken') {
    const round = typeof v.round === 'number' ? v.round : 1;
    const taken: NoteRound = { round, addressed: null, verdict: '' };
    note = {
      ...note,
      status: 'taken',
      revision: typeof v.revision === 'number' ? v.revision : note.revision,
      rounds: [...note.rounds.filter((r) => r.round !== round), taken].sort((a, b) => a.round - b.round),
    };
    if (typeof v.revision === 'number') revision = Math.max(revision ?? 0, v.revision);
  } else {
    const addressed = v.addressed === true;
    const verdict = typeof v.verdict === 'string' ? v.verdict : '';
    const round = typeof v.round === 'number' ? v.round : (note.rounds[note.rounds.length - 1]?.round ?? run.round);
    const judged: NoteRound = { round, addressed, verdict };
    note = {
      ...note,
      status: addressed ? 'addressed' : 'not_addressed',
      rounds: [...note.rounds.filter((r) => r.round !== round), judged].sort((a, b) => a.round - b.round),
    };
  }

  const notes = index >= 0 ? run.notes.map((n, i) => (i === index ? note : n)) : [...run.notes, note];
  return { ...run, notes, entries, revision };
}

function finishRun(run: RunView, status: RunStatus, error: string | null, at: number | undefined): RunView {
  const entries = run.entries.map((e) => ((e.kind === 'message' || e.kind === 'tool') && !e.done ? { ...e, done: true } : e));
  const steps: RunView['steps'] = {};
  for (const [name, step] of Object.entries(run.steps)) steps[name] = step.status === 'running' ? { ...step, status: 'done' } : step;
  return { ...run, status, error, entries, steps, finishedAt: at ?? null };
}
