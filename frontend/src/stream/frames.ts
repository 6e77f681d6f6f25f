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
export type CustomFrame = S['ArtifactSaved'] | S['Usage'] | S['AgentTransfer'] | S['LoopExit'] | S['AgentError'] | S['RunQueued'];
export type JsonPatchOp = StateDeltaFrame['delta'][number];
export type ArtifactSavedValue = S['ArtifactSavedValue'];
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
