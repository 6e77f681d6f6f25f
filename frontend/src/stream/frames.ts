/**
 * Frames of the session WebSocket (/api/v1/ws/{sessionId}): AG-UI events with a per-session `seq`,
 * plus connection-level frames without one (hello, resync, ERROR, pong).
 */

export type AgentKind = 'llm' | 'sequential' | 'loop' | 'parallel' | string;

interface Base {
  seq?: number;
  timestamp?: number;
  runId?: string;
}

export interface RunStartedFrame extends Base {
  type: 'RUN_STARTED';
  threadId: string;
  question: string;
  /** Set when an interrupted or failed run continues from its checkpoint. */
  resumed?: boolean;
}

export interface RunFinishedFrame extends Base {
  type: 'RUN_FINISHED';
  result?: { status?: string; error?: string | null } | null;
}

export interface RunErrorFrame extends Base {
  type: 'RUN_ERROR';
  message: string;
  code?: string;
}

export interface StepFrame extends Base {
  type: 'STEP_STARTED' | 'STEP_FINISHED';
  stepName: string;
  agent: string;
  agentKind?: AgentKind;
  parent?: string;
  iteration?: number;
  maxIterations?: number;
  handedOffTo?: string;
}

export interface TextStartFrame extends Base {
  type: 'TEXT_MESSAGE_START';
  messageId: string;
  role?: string;
  agent?: string;
}

export interface TextContentFrame extends Base {
  type: 'TEXT_MESSAGE_CONTENT';
  messageId: string;
  delta: string;
  agent?: string;
}

export interface TextEndFrame extends Base {
  type: 'TEXT_MESSAGE_END';
  messageId: string;
  agent?: string;
}

export interface ToolStartFrame extends Base {
  type: 'TOOL_CALL_START';
  toolCallId: string;
  toolCallName: string;
  parentMessageId?: string;
  agent?: string;
}

export interface ToolArgsFrame extends Base {
  type: 'TOOL_CALL_ARGS';
  toolCallId: string;
  delta: string;
}

export interface ToolEndFrame extends Base {
  type: 'TOOL_CALL_END';
  toolCallId: string;
}

export interface ToolResultFrame extends Base {
  type: 'TOOL_CALL_RESULT';
  toolCallId: string;
  content: string;
  toolName?: string;
  agent?: string;
}

export interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove' | string;
  path: string;
  value?: unknown;
}

export interface StateDeltaFrame extends Base {
  type: 'STATE_DELTA';
  delta: JsonPatchOp[];
  version?: number | null;
  agent?: string;
}

export interface ArtifactSavedValue {
  filename: string;
  version: number;
  agent?: string;
  markdownUrl: string;
  pdfUrl: string;
}

export interface HelloValue {
  sessionId: string;
  stream: string;
  lastSeq: number;
  activeRunId: string | null;
  model: string;
}

export interface ResyncValue {
  stream: string;
  lastSeq: number;
  reason: string;
}

export interface CustomFrame extends Base {
  type: 'CUSTOM';
  name: string;
  value: unknown;
}

export interface ConnectionErrorFrame extends Base {
  type: 'ERROR';
  code: string;
  message: string;
  status?: number;
  runId?: string;
}

export interface PongFrame extends Base {
  type: 'pong';
}

export type Frame =
  | RunStartedFrame
  | RunFinishedFrame
  | RunErrorFrame
  | StepFrame
  | TextStartFrame
  | TextContentFrame
  | TextEndFrame
  | ToolStartFrame
  | ToolArgsFrame
  | ToolEndFrame
  | ToolResultFrame
  | StateDeltaFrame
  | CustomFrame
  | ConnectionErrorFrame
  | PongFrame;

export function isFrame(value: unknown): value is Frame {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

export function isHello(frame: Frame): frame is CustomFrame & { value: HelloValue } {
  return frame.type === 'CUSTOM' && frame.name === 'session' && frame.seq === undefined;
}

export function isResync(frame: Frame): frame is CustomFrame & { value: ResyncValue } {
  return frame.type === 'CUSTOM' && frame.name === 'resync' && frame.seq === undefined;
}
