/**
 * Messages of the session WebSocket (/api/v1/ws/{sessionId}). Every type here is generated from
 * the server's pydantic models (backend/agente_films/protocol.py, via the OpenAPI snapshot and
 * `npm run gen:api`): AG-UI events of the session's stream (with a per-session `seq`), and
 * control messages of one connection (a `control` tag, no `type`).
 */
import type { components } from '../api/schema';

type S = components['schemas'];

export type ServerMessage = S['ServerMessage'];
export type ClientFrame = S['ClientFrame'];

/** An AG-UI event of the session's stream. */
export type Frame = Exclude<ServerMessage, ControlMessage>;
/** A message for this connection only. */
export type ControlMessage = S['Hello'] | S['Resync'] | S['ControlError'] | S['Pong'] | S['RunEnded'];

export type RunStartedFrame = S['RunStarted'];
export type RunFinishedFrame = S['RunFinished'];
export type RunErrorFrame = S['RunError'];
export type StepFrame = S['StepStarted'] | S['StepFinished'];
export type StateDeltaFrame = S['StateDelta'];
export type StateSnapshotFrame = S['StateSnapshot'];
export type CustomFrame =
  | S['ArtifactSaved']
  | S['Usage']
  | S['AgentTransfer']
  | S['LoopExit']
  | S['AgentError']
  | S['RunQueued']
  | S['NoteReceived']
  | S['NoteTaken']
  | S['NoteVerdict'];
export type JsonPatchOp = StateDeltaFrame['delta'][number];
export type ArtifactSavedValue = S['ArtifactSavedValue'];
/** A producer's note said while the team works: stored and queued (or kept for the next run). */
export type NoteReceivedValue = S['NoteReceivedValue'];
/** The writers' room took a note at the start of a round. */
export type NoteTakenValue = S['NoteTakenValue'];
/** The critic's verdict on a taken note. */
export type NoteVerdictValue = S['NoteVerdictValue'];
/** The client's message frame: to the greeter, or while a run works a note for the writers' room. */
export type SendMessage = S['SendMessage'];
/** A direction chip the person can add to a message. */
export type Tone = NonNullable<SendMessage['direction']>[number];
export type Hello = S['Hello'];
export type Resync = S['Resync'];
export type ControlError = S['ControlError'];
export type RunEnded = S['RunEnded'];
export type RunTimeline = S['SessionTimeline'];

export function isServerMessage(value: unknown): value is ServerMessage {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { type?: unknown; control?: unknown };
  return typeof v.type === 'string' || typeof v.control === 'string';
}

export function isControl(message: ServerMessage): message is ControlMessage {
  return typeof (message as { control?: unknown }).control === 'string';
}

export function isHello(message: ServerMessage): message is Hello {
  return isControl(message) && message.control === 'hello';
}

export function isResync(message: ServerMessage): message is Resync {
  return isControl(message) && message.control === 'resync';
}
