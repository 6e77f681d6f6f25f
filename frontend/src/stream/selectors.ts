/** Derived views: which runs to show, what goes in the chat, and the team panel's rounds and lanes. */
import { isWriter, LANE_AGENTS, WRITER_AGENTS, type LaneAgent, type WriterAgent } from './agents';
import type { ArtifactEntry, Entry, NoteEntry, NoteRound, NoteStatus, RunStage, RunView, SessionStreamState, ToolEntry } from './types';

/** History order first (it knows runs from before a restart), then runs only seen live. */
export function visibleRuns(state: SessionStreamState): RunView[] {
  const ids = [...state.historyOrder];
  for (const id of state.liveOrder) if (!ids.includes(id)) ids.push(id);
  const runs: RunView[] = [];
  for (const id of ids) {
    const live = state.live[id];
    const stored = state.history[id];
    if (live && live.status === 'running' && stored && stored.status !== 'running' && state.activeRunId !== id) {
      // The stream never said how it ended (its server died): the stored outcome says.
      runs.push({ ...live, status: stored.status, error: stored.error, finishedAt: stored.finishedAt });
    } else if (live ?? stored) {
      runs.push((live ?? stored)!);
    }
  }
  return runs;
}

export function isBusy(state: SessionStreamState): boolean {
  return state.activeRunId !== null;
}

// -- producer's notes ---------------------------------------------------------------------------

/** A producer's note as the session knows it, from every run's frames and the session state. */
export interface NoteView {
  id: string;
  text: string;
  status: NoteStatus;
  /** The round that last took it (in the run that took it). */
  round: number | null;
  revision: number | null;
  /** The critic's words on it, once judged. */
  verdict: string;
  /** The run the note was said to (the chat shows it there); null if no run said it received it. */
  runId: string | null;
}

/** A note in the session state (`producer_notes`), as the server keeps it. */
export interface StateNote {
  id: string;
  text: string;
  status: 'pending' | 'taken' | 'addressed' | 'not_addressed';
  round: number | null;
  revision: number;
  addressed: boolean | null;
  verdict: string;
}

export const PRODUCER_NOTES = 'producer_notes';

/** The `producer_notes` state value as notes (anything else is no notes). */
export function stateNotes(value: unknown): StateNote[] {
  if (!Array.isArray(value)) return [];
  const notes: StateNote[] = [];
  for (const item of value as unknown[]) {
    if (!item || typeof item !== 'object') continue;
    const n = item as Record<string, unknown>;
    if (typeof n.id !== 'string' || typeof n.text !== 'string') continue;
    const status = n.status === 'taken' || n.status === 'addressed' || n.status === 'not_addressed' ? n.status : 'pending';
    notes.push({
      id: n.id,
      text: n.text,
      status,
      round: typeof n.round === 'number' ? n.round : null,
      revision: typeof n.revision === 'number' ? n.revision : 0,
      addressed: typeof n.addressed === 'boolean' ? n.addressed : null,
      verdict: typeof n.verdict === 'string' ? n.verdict : '',
    });
  }
  return notes;
}

const NOTE_STAGE: Record<NoteStatus, number> = { queued: 0, kept: 0, taken: 1, addressed: 2, not_addressed: 2 };

/** Every producer's note of the session, by id: the runs' frames in order (a note said to one run
 * may be taken and judged in the next), then the session state's `producer_notes`. */
export function noteBook(runs: RunView[], state: Record<string, unknown> = {}): Map<string, NoteView> {
  const book = new Map<string, NoteView>();
  for (const run of runs) {
    for (const note of run.notes) {
      const known = book.get(note.id);
      const last: NoteRound | undefined = note.rounds[note.rounds.length - 1];
      const base: NoteView = known ?? { id: note.id, text: note.text, status: note.status, round: null, revision: null, verdict: '', runId: null };
      const view: NoteView = { ...base, text: note.text || base.text, runId: base.runId ?? (note.received ? run.id : null) };
      if (last) {
        // This run took (and maybe judged) the note: it says where the note stands.
        Object.assign(view, { status: note.status, round: last.round, verdict: last.verdict, revision: note.revision ?? base.revision });
      } else if (!known || NOTE_STAGE[known.status] === 0) {
        view.status = note.status; // queued, or kept for the next run
      }
      book.set(note.id, view);
    }
  }
  // The state is as new as the frames (they come from its deltas) and knows notes whose frames were missed.
  for (const n of stateNotes(state[PRODUCER_NOTES])) {
    const known = book.get(n.id);
    const status: NoteStatus = n.status === 'pending' ? (known && NOTE_STAGE[known.status] === 0 ? known.status : 'queued') : n.status;
    book.set(n.id, {
      id: n.id,
      text: n.text || known?.text || '',
      status,
      round: n.round ?? known?.round ?? null,
      revision: n.revision,
      verdict: NOTE_STAGE[status] === 2 ? n.verdict || (known?.verdict ?? '') : '',
      runId: known?.runId ?? null,
    });
  }
  return book;
}

/** How the chat and the panels word a note's status. */
export function noteStatusLabel(note: Pick<NoteView, 'status' | 'round'> | undefined): string {
  if (!note) return 'sending…';
  switch (note.status) {
    case 'queued':
      return 'queued';
    case 'kept':
      return 'kept for the next run';
    case 'taken':
      return note.round ? `taken in round ${note.round}` : 'taken';
    case 'addressed':
      return 'addressed';
    case 'not_addressed':
      return 'not addressed';
  }
}

/** The notes a round of a run took, with the critic's verdict on each in that round. */
export interface RoundNote {
  id: string;
  text: string;
  addressed: boolean | null;
  verdict: string;
}

export function roundNotes(run: RunView, round: number): RoundNote[] {
  const notes: RoundNote[] = [];
  for (const note of run.notes) {
    const r = note.rounds.find((x) => x.round === round);
    if (r) notes.push({ id: note.id, text: note.text, addressed: r.addressed, verdict: r.verdict });
  }
  return notes;
}

/** A run the server started by itself to apply notes said too late for the run they were sent to. */
export const FOLLOW_UP_PREFIX = "Notes for the writers' room:";

const DIRECTION_LINE = /\n\nDirection: ([^\n]*)$/;

/** A run's question as the person typed it, and the direction chips they added (the server appends
 * them as a last "Direction: …" line). */
export function splitQuestion(question: string): { text: string; direction: string[] } {
  const match = DIRECTION_LINE.exec(question);
  if (!match) return { text: question, direction: [] };
  const direction = (match[1] ?? '').split(',').map((d) => d.trim()).filter(Boolean);
  return { text: question.slice(0, match.index), direction };
}

// -- the chat ----------------------------------------------------------------------------------

export type ChatItem =
  | { kind: 'message'; entry: Entry & { kind: 'message' } }
  | { kind: 'tool'; entry: ToolEntry }
  | { kind: 'team'; run: RunView }
  | { kind: 'artifact'; entry: ArtifactEntry }
  | { kind: 'note'; entry: NoteEntry; note: NoteView | undefined }
  | { kind: 'error'; id: string; agent: string; message: string };

/** An agent's error in the chat, unless the run's own status line already tells the story. */
function showAgentError(run: RunView, message: string): boolean {
  if (run.status === 'cancelled') return !/abort/i.test(message);
  if (run.status === 'failed' || run.status === 'interrupted') return !run.error;
  return true;
}

/** The chat shows the greeter's side of the conversation, a team progress card, the file
 * writer's closing words and the document card; the team's detailed work is in the team panel. */
export function chatItems(run: RunView, notes?: Map<string, NoteView>): ChatItem[] {
  const items: ChatItem[] = [];
  let teamCard = false;
  for (const entry of run.entries) {
    if (entry.agent !== 'greeter' && !teamCard && run.teamStarted) {
      items.push({ kind: 'team', run });
      teamCard = true;
    }
    if (entry.kind === 'note') {
      // A note is shown once, in the run it was said to, with where it stands now.
      const note = notes?.get(entry.noteId);
      if (!notes || !note || note.runId === run.id) items.push({ kind: 'note', entry, note });
    } else if (entry.kind === 'message' && (entry.agent === 'greeter' || entry.agent === 'file_writer')) {
      items.push({ kind: 'message', entry });
    } else if (entry.kind === 'tool' && entry.agent === 'greeter') {
      items.push({ kind: 'tool', entry });
    } else if (entry.kind === 'artifact') {
      items.push({ kind: 'artifact', entry });
    } else if (entry.kind === 'error' && showAgentError(run, entry.message)) {
      items.push({ kind: 'error', id: entry.id, agent: entry.agent, message: entry.message });
    }
  }
  if (run.teamStarted && !teamCard) {
    // Put the card right after the greeter's hand-over.
    items.push({ kind: 'team', run });
  }
  return items;
}

export type PhaseStatus = 'waiting' | 'running' | 'done' | 'skipped' | 'stopped';

export interface Phase {
  agent: WriterAgent;
  status: PhaseStatus;
  entries: Entry[];
  /** Passed over in a revision: the agent kept its earlier report. */
  kept: boolean;
}

export interface Round {
  n: number;
  phases: Record<WriterAgent, Phase>;
  verdict: 'approved' | 'revise' | 'pending';
  feedback: string[];
  status: 'running' | 'done' | 'stopped';
  /** The producer's notes this round took, with the critic's verdict on each. */
  notes: RoundNote[];
}

export interface Lane {
  agent: LaneAgent;
  status: PhaseStatus;
  entries: Entry[];
  /** Passed over in a revision: the agent kept its earlier report. */
  kept: boolean;
}

export interface TeamView {
  started: boolean;
  rounds: Round[];
  maxRounds: number | null;
  currentRound: number;
  approved: boolean;
  lanes: Lane[];
  fileWriter: { status: PhaseStatus; entries: Entry[] };
  /** LLM agents working right now. */
  active: string[];
  stages: { writers: PhaseStatus; preproduction: PhaseStatus; fileWriter: PhaseStatus };
}

/** A tool call's arguments as an object ({} while they are incomplete or not JSON). */
export function toolArgs(entry: ToolEntry): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(entry.args || '{}');
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A tool call the server answered with an error (e.g. exit_loop while producer's notes are open). */
export function toolRefused(entry: ToolEntry): boolean {
  const result = parseJson(entry.result) as { status?: unknown } | undefined;
  return result?.status === 'error';
}

export function parseJson(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function agentStatus(run: RunView, agent: string, entries: Entry[], iteration?: number): PhaseStatus {
  const step = run.steps[agent];
  if (run.status === 'running' && step?.status === 'running' && (iteration === undefined || step.iteration === iteration)) return 'running';
  if (entries.length > 0) return 'done';
  if (step && (iteration === undefined || step.iteration === iteration) && step.status === 'done') return 'done';
  return run.status === 'running' ? 'waiting' : 'skipped';
}

export function teamView(run: RunView, maxRoundsFallback: number | null = null): TeamView {
  const rounds: Round[] = [];
  const noteRounds = run.notes.flatMap((note) => note.rounds.map((r) => r.round));
  const roundCount = Math.max(run.round, ...noteRounds, ...run.entries.filter((e) => isWriter(e.agent)).map((e) => e.round ?? 0));
  for (let n = 1; n <= roundCount; n++) {
    const phases = {} as Record<WriterAgent, Phase>;
    for (const agent of WRITER_AGENTS) {
      const entries = run.entries.filter((e) => e.agent === agent && e.round === n);
      const step = run.steps[agent];
      const kept = entries.length === 0 && Boolean(step?.kept) && step?.status === 'done' && (step.iteration === undefined || step.iteration === n);
      phases[agent] = { agent, entries, status: agentStatus(run, agent, entries, n), kept };
    }
    const critic = phases.critic.entries;
    const approved = critic.some((e) => e.kind === 'tool' && e.name === 'exit_loop' && !toolRefused(e)) || run.loopExit?.iteration === n;
    const feedback = critic
      .filter((e): e is ToolEntry => e.kind === 'tool' && e.name === 'append_to_state')
      .map((e) => toolArgs(e))
      .filter((a) => a.key === 'CRITICAL_FEEDBACK' && typeof a.value === 'string')
      .map((a) => String(a.value));
    const criticDone = phases.critic.status === 'done';
    const verdict: Round['verdict'] = approved ? 'approved' : criticDone ? 'revise' : 'pending';
    const status: Round['status'] =
      criticDone || approved ? 'done' : run.status === 'running' && n === roundCount ? 'running' : 'stopped';
    rounds.push({ n, phases, verdict, feedback, status, notes: roundNotes(run, n) });
  }

  const lanes: Lane[] = LANE_AGENTS.map((agent) => {
    const entries = run.entries.filter((e) => e.agent === agent);
    const step = run.steps[agent];
    const kept = entries.length === 0 && Boolean(step?.kept) && step?.status === 'done';
    return { agent, entries, status: agentStatus(run, agent, entries), kept };
  });
  const fwEntries = run.entries.filter((e) => e.agent === 'file_writer');
  const fileWriter = { status: agentStatus(run, 'file_writer', fwEntries), entries: fwEntries };

  const active = Object.values(run.steps)
    .filter((s) => s.status === 'running' && (s.kind === undefined || s.kind === 'llm'))
    .map((s) => s.agent);

  const approved = rounds.some((r) => r.verdict === 'approved') || run.loopExit !== null;
  const writersRunning = run.status === 'running' && (run.steps.writers_room?.status === 'running' || rounds.some((r) => r.status === 'running'));
  const lastRound = rounds[rounds.length - 1];
  const writers: PhaseStatus = writersRunning
    ? 'running'
    : lastRound?.status === 'stopped'
      ? 'stopped'
      : rounds.length
        ? 'done'
        : run.status === 'running'
          ? 'waiting'
          : 'skipped';
  const laneStatuses = lanes.map((l) => l.status);
  const preproduction: PhaseStatus = laneStatuses.includes('running')
    ? 'running'
    : laneStatuses.every((s) => s === 'done')
      ? 'done'
      : laneStatuses.includes('done')
        ? 'done'
        : run.status === 'running'
          ? 'waiting'
          : 'skipped';

  return {
    started: run.teamStarted,
    rounds,
    maxRounds: run.maxRounds ?? maxRoundsFallback,
    currentRound: roundCount,
    approved,
    lanes,
    fileWriter,
    active,
    stages: { writers, preproduction, fileWriter: fileWriter.status },
  };
}

export function lastTeamRun(runs: RunView[]): RunView | null {
  for (let i = runs.length - 1; i >= 0; i--) {
    const run = runs[i];
    if (run?.teamStarted) return run;
  }
  return null;
}

// -- the producer's hand: regenerations, edits by hand, undos -----------------------------------

export const STAGE_LABEL: Record<RunStage, string> = {
  writers_room: "the writers' room",
  box_office: 'the box-office report',
  casting: 'the casting report',
  document: 'the pitch document',
};

/** A run of the producer's own change (an edit by hand or an undo): no agents, one state change. */
export function isProducerChange(run: RunView): boolean {
  return run.kind === 'edit' || run.kind === 'undo';
}

const EDITED = /^Edited by hand:\s*(.+)$/is;
const UNDID = /^Undid (the edit by hand|the regeneration|the revision):\s*(.*)$/is;
const REGENERATE = /^Regenerate:\s*(.+)$/is;

/** One line for the chat: "You edited Logline, Act II", "You undid the revision “make it funnier”". */
export function producerChangeText(run: RunView): string {
  const question = run.question.trim();
  if (run.kind === 'edit') {
    const edited = EDITED.exec(question);
    if (edited) return `You edited ${edited[1]}`;
    return /^edited\b/i.test(question) ? `You e${question.slice(1)}` : question || 'You edited the pitch';
  }
  if (run.kind === 'undo') {
    const undid = UNDID.exec(question);
    if (!undid) return /^undid\b/i.test(question) ? `You u${question.slice(1)}` : question || 'You undid the last change';
    const [, what, inner = ''] = undid;
    if (what === 'the edit by hand') {
      const edited = EDITED.exec(inner.trim());
      return edited ? `You undid your edit of ${edited[1]}` : 'You undid your edit by hand';
    }
    if (what === 'the regeneration') {
      const regenerated = REGENERATE.exec(inner.trim());
      return regenerated ? `You undid the regeneration of ${regenerated[1]}` : 'You undid the regeneration';
    }
    const words = splitQuestion(inner).text.trim();
    return words ? `You undid the revision “${words}”` : 'You undid the last revision';
  }
  return question;
}

/** What a regeneration reruns, for the chat and the team panel ("the casting report"). */
export function regenerationText(run: RunView): string {
  if (run.stage) return STAGE_LABEL[run.stage];
  const regenerated = REGENERATE.exec(run.question.trim());
  return regenerated?.[1] ?? run.question;
}

// -- branches -------------------------------------------------------------------------------------

/** A run of a branch that its branch point cut short (copied from the parent up to the round or
 * version the branch starts at, RUN_FINISHED `result.branchedAt`): the server's words for where,
 * else null. */
export function branchCut(run: RunView): string | null {
  if (!run.branchedAt) return null;
  const where = run.branchedAt.round != null ? `round ${run.branchedAt.round}` : `state version ${run.branchedAt.version}`;
  return run.error ?? `The branch starts at ${where} of this run.`;
}
