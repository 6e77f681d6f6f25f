/** The view model the UI renders: runs (one per user message) made of entries, built from frames or history. */

export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';

interface EntryBase {
  id: string;
  agent: string;
  /** Writers' room round (1-based) for researcher, screenwriter and critic entries. */
  round?: number;
  /** ISO time or epoch ms, when known. */
  at?: string | number;
}

export interface MessageEntry extends EntryBase {
  kind: 'message';
  text: string;
  done: boolean;
}

export interface ToolEntry extends EntryBase {
  kind: 'tool';
  name: string;
  /** Arguments as a JSON string (streamed in pieces). */
  args: string;
  /** The tool's answer as a JSON string, once it came. */
  result?: string;
  done: boolean;
}

export interface StateEntry extends EntryBase {
  kind: 'state';
  keys: string[];
  version: number | null;
}

export interface ArtifactEntry extends EntryBase {
  kind: 'artifact';
  filename: string;
  version: number;
  markdownUrl: string;
  pdfUrl: string;
}

export interface ErrorEntry extends EntryBase {
  kind: 'error';
  message: string;
}

export interface ThoughtEntry extends EntryBase {
  kind: 'thought';
  text: string;
}

export type Entry = MessageEntry | ToolEntry | StateEntry | ArtifactEntry | ErrorEntry | ThoughtEntry;

export interface StepInfo {
  agent: string;
  kind?: string;
  parent?: string;
  status: 'running' | 'done';
  iteration?: number;
  maxIterations?: number;
  handedOffTo?: string;
}

export interface Usage {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export interface RunView {
  id: string;
  question: string;
  status: RunStatus;
  error: string | null;
  /** 'live' when built from socket frames, 'history' when rebuilt from the REST history. */
  source: 'live' | 'history';
  startedAt: string | number | null;
  finishedAt: string | number | null;
  entries: Entry[];
  steps: Record<string, StepInfo>;
  /** The writers' room round reached so far (0 before it starts). */
  round: number;
  maxRounds: number | null;
  loopExit: { agent: string; iteration: number | null } | null;
  /** Set once the greeter handed over to the film concept team. */
  teamStarted: boolean;
  /** Tokens and cost of the run's model calls, when the server reports them. */
  usage: Usage | null;
  /** Runs ahead of this one while the server is at its limit of runs at once; null once it runs. */
  queuedAhead: number | null;
  /** A failed or interrupted run the server can continue from its checkpoint (RUN_ERROR.resumable). */
  resumable: boolean;
}

export interface Draft {
  version: number;
  text: string;
  agent: string | null;
  runId: string | null;
  at: string | number | null;
}

export interface Notice {
  id: number;
  code: string;
  message: string;
}

export interface SessionStreamState {
  sessionId: string;
  /** Stream id from the server's hello; a new one means the server restarted. */
  stream: string | null;
  /** Highest seq applied; frames at or below it are replays and are ignored. */
  lastSeq: number;
  live: Record<string, RunView>;
  liveOrder: string[];
  history: Record<string, RunView>;
  historyOrder: string[];
  historyLoaded: boolean;
  activeRunId: string | null;
  model: string | null;
  state: Record<string, unknown>;
  stateVersion: number;
  drafts: Draft[];
  notices: Notice[];
  /** Bumped whenever the REST view must be reloaded (resync, a run we only saw part of). */
  refreshToken: number;
  /** Bumped when a pitch document was saved, so the documents list reloads. */
  documentsToken: number;
  nextNoticeId: number;
}
