/** Derived views: which runs to show, what goes in the chat, and the team panel's rounds and lanes. */
import { isWriter, LANE_AGENTS, WRITER_AGENTS, type LaneAgent, type WriterAgent } from './agents';
import type { ArtifactEntry, Entry, RunView, SessionStreamState, ToolEntry } from './types';

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

export type ChatItem =
  | { kind: 'message'; entry: Entry & { kind: 'message' } }
  | { kind: 'tool'; entry: ToolEntry }
  | { kind: 'team'; run: RunView }
  | { kind: 'artifact'; entry: ArtifactEntry }
  | { kind: 'error'; id: string; agent: string; message: string };

/** An agent's error in the chat, unless the run's own status line already tells the story. */
function showAgentError(run: RunView, message: string): boolean {
  if (run.status === 'cancelled') return !/abort/i.test(message);
  if (run.status === 'failed' || run.status === 'interrupted') return !run.error;
  return true;
}

/** The chat shows the greeter's side of the conversation, a team progress card, the file
 * writer's closing words and the document card; the team's detailed work is in the team panel. */
export function chatItems(run: RunView): ChatItem[] {
  const items: ChatItem[] = [];
  let teamCard = false;
  for (const entry of run.entries) {
    if (entry.agent !== 'greeter' && !teamCard && run.teamStarted) {
      items.push({ kind: 'team', run });
      teamCard = true;
    }
    if (entry.kind === 'message' && (entry.agent === 'greeter' || entry.agent === 'file_writer')) {
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
}

export interface Round {
  n: number;
  phases: Record<WriterAgent, Phase>;
  verdict: 'approved' | 'revise' | 'pending';
  feedback: string[];
  status: 'running' | 'done' | 'stopped';
}

export interface Lane {
  agent: LaneAgent;
  status: PhaseStatus;
  entries: Entry[];
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
  const roundCount = Math.max(run.round, ...run.entries.filter((e) => isWriter(e.agent)).map((e) => e.round ?? 0));
  for (let n = 1; n <= roundCount; n++) {
    const phases = {} as Record<WriterAgent, Phase>;
    for (const agent of WRITER_AGENTS) {
      const entries = run.entries.filter((e) => e.agent === agent && e.round === n);
      phases[agent] = { agent, entries, status: agentStatus(run, agent, entries, n) };
    }
    const critic = phases.critic.entries;
    const approved = critic.some((e) => e.kind === 'tool' && e.name === 'exit_loop') || run.loopExit?.iteration === n;
    const feedback = critic
      .filter((e): e is ToolEntry => e.kind === 'tool' && e.name === 'append_to_state')
      .map((e) => toolArgs(e))
      .filter((a) => a.key === 'CRITICAL_FEEDBACK' && typeof a.value === 'string')
      .map((a) => String(a.value));
    const criticDone = phases.critic.status === 'done';
    const verdict: Round['verdict'] = approved ? 'approved' : criticDone ? 'revise' : 'pending';
    const status: Round['status'] =
      criticDone || approved ? 'done' : run.status === 'running' && n === roundCount ? 'running' : 'stopped';
    rounds.push({ n, phases, verdict, feedback, status });
  }

  const lanes: Lane[] = LANE_AGENTS.map((agent) => {
    const entries = run.entries.filter((e) => e.agent === agent);
    return { agent, entries, status: agentStatus(run, agent, entries) };
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
