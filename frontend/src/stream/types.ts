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

/** Where a producer's note was said in the run (the chat shows it there); its story is in RunView.notes. */
export interface NoteEntry extends EntryBase {
  kind: 'note';
  noteId: string;
  text: string;
}

export type Entry = MessageEntry | ToolEntry | StateEntry | ArtifactEntry | ErrorEntry | ThoughtEntry | NoteEntry;

/** Where a producer's note stands: queued for the next round, kept for the next run (the run it was
 * sent to stopped), taken by the writers' room, or judged by the critic. */
export type NoteStatus = 'queued' | 'kept' | 'taken' | 'addressed' | 'not_addressed';

/** One round of a run that took a note, with the critic's verdict on it once given. */
export interface NoteRound {
  round: number;
  /** null until the critic judged the note in this round. */
  addressed: boolean | null;
  verdict: string;
}

/** A producer's note as one run saw it (note_received / note_taken / note_verdict frames). */
export interface RunNote {
  id: string;
  text: string;
  /** Said while this run worked (note_received); false for a note this run only took or judged. */
  received: boolean;
  /** Where the note stands after this run's frames, in their order. */
  status: NoteStatus;
  /** The revision of the pitch the note went into, once taken. */
  revision: number | null;
  /** The rounds of this run that took the note. */
  rounds: NoteRound[];
  at?: number;
}

export interface StepInfo {
  agent: string;
  kind?: string;
  parent?: string;
  status: 'running' | 'done';
  iteration?: number;
  maxIterations?: number;
  handedOffTo?: string;
  /** Passed over in a revision: the agent kept its earlier report. */
  kept?: boolean;
}

export interface Usage {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

/** What started a run: a message, a regeneration of one stage, or the producer's edit or undo
 * (a run of one state change, no agents). */
export type RunKind = 'message' | 'regenerate' | 'edit' | 'undo';
export type RunStage = 'writers_room' | 'box_office' | 'casting' | 'document';

export interface RunView {
  id: string;
  question: string;
  kind: RunKind;
  /** The stage a regeneration runs again. */
  stage: RunStage | null;
  status: RunStatus;
  error: string | null;
  /** A branch's copy of a run its branch point cut short: where the branch starts in it. */
  branchedAt?: { version: number; round?: number | null } | null;
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
  /** Producer's notes this run received, took or judged, in the order it first saw them. */
  notes: RunNote[];
  /** The pitch's revision this run worked on (0 the first pitch), when its notes tell. */
  revision: number | null;
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
  /**
   * Frames at or below this seq are the replay the first connection starts with: what happened
   * before this page connected, which its REST loads already read. They build the view like any
   * frame but are not news (nothing to reload because of them). Set from the first hello's
   * lastSeq; 0 again when the stream changed (a server restart: everything on it is news).
   */
  replayUntil: number;
  /** The latest hello (a new object on every connection): whether a run was active then. */
  hello: { activeRunId: string | null; lastSeq: number } | null;
  /** Bumped when a pitch document was saved (news only), so the documents list reloads. */
  documentsToken: number;
  /** Bumped when a run started or ended (news only): the session list may have changed. */
  runsToken: number;
  /** Bumped when a run ended (news only): its documents (an undo marks a version undone) may have changed. */
  runsEndedToken: number;
  nextNoticeId: number;
}
