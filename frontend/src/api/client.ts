/**
 * The typed REST client: openapi-fetch over the paths generated from the backend's OpenAPI schema
 * (src/api/schema.ts, `npm run gen:api`). Every call resolves to data or throws an ApiError with a
 * message a person can read.
 */
import createClient from 'openapi-fetch';

import type { components, paths } from './schema';

type Schemas = components['schemas'];
export type SessionOut = Schemas['SessionOut'];
export type SessionPage = Schemas['SessionPage'];
export type HistoryOut = Schemas['HistoryOut'];
export type HistoryItem = Schemas['HistoryItem'];
export type AnswerOut = Schemas['AnswerOut'];
export type ReasoningOut = Schemas['ReasoningOut'];
export type StateOut = Schemas['StateOut'];
export type StateVersionOut = Schemas['StateVersionOut'];
export type StateSnapshotOut = Schemas['StateSnapshotOut'];
export type PitchOut = Schemas['PitchOut'];
export type PitchVersionOut = Schemas['PitchVersionOut'];
export type RunOut = Schemas['RunOut'];
/** The answer to a message sent while the team works: it was stored as a producer's note. */
export type NoteOut = Schemas['NoteOut'];
export type Tone = NonNullable<Schemas['MessageIn']['direction']>[number];
export type InfoOut = Schemas['InfoOut'];
export type UsageOut = Schemas['UsageOut'];
/** Where a branch starts in its parent: a state version, and the round of a run when branched from one. */
export type BranchPoint = Schemas['BranchPoint'];
/** A stage of the team a person can run again. */
export type Stage = Schemas['RegenerateIn']['stage'];
export type StateEditOut = Schemas['StateEditOut'];
export type UndoOut = Schemas['UndoOut'];

/** Where to branch: the end of a writers' room round (`from_round`, of `run_id`), or a state version (`from_version`). */
export type BranchIn = Schemas['BranchIn'];
/** One outline draft of a session: the state version where the outline changed, and who changed it. */
export type DraftOut = Schemas['DraftOut'];
export type CompareSide = Schemas['CompareSide'];
export type CompareOut = Schemas['CompareOut'];

export class ApiError extends Error {
  readonly status: number;
  readonly runId: string | null;
  /** The server's error code when it gave one (`stale_version`, `nothing_to_undo`, `run_in_progress`…). */
  readonly code: string | null;
  /** The whole error body, for the fields a code comes with (`current_version`). */
  readonly body: Record<string, unknown> | null;

  constructor(message: string, status: number, runId: string | null = null, code: string | null = null, body: Record<string, unknown> | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.runId = runId;
    this.code = code;
    this.body = body;
  }
}

/** Every refusal's body: `detail` and a `code`, with `run_id`, `retry_after` or `current_version` when the code has one.
 * (FastAPI's own 422 for a malformed request has a list as `detail` and no code.) */
export type ErrorOut = Schemas['ErrorOut'];

function asErrorOut(fields: Record<string, unknown> | null): ErrorOut | null {
  return typeof fields?.detail === 'string' && typeof fields.code === 'string' ? (fields as ErrorOut) : null;
}

function errorFrom(body: unknown, status: number, headers?: Headers): ApiError {
  const fields = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
  const refusal = asErrorOut(fields);
  const message = status === 429 ? tooManyRequests(headers?.get('retry-after') ?? refusal?.retry_after) : describeError(body, status);
  const error = new ApiError(message, status, refusal?.run_id ?? null, refusal?.code ?? null, fields);
  for (const listener of failureListeners) listener(error);
  return error;
}

// -- sign-in: the CSRF token every change carries, and who hears of a failure (a 401: signed out) --

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
let csrfToken: string | null = null;
const failureListeners = new Set<(error: ApiError) => void>();

/** The page's CSRF token (from /auth/me or a sign-in), sent in X-CSRF-Token with every change: the
 * sign-in cookie alone, which another site can make the browser send, does not let a change through. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Hears every failed request (the auth layer returns to the sign-in page on a 401); returns the unsubscribe. */
export function onApiFailure(listener: (error: ApiError) => void): () => void {
  failureListeners.add(listener);
  return () => void failureListeners.delete(listener);
}

/** Tells the failure listeners the sign-in is gone when it was not a REST call that found out (the
 * session socket closed with 4401): the page returns to sign-in as on a 401. */
export function reportSignedOut(): void {
  const error = new ApiError('Your sign-in has ended; sign in again.', 401, null, 'not_signed_in', null);
  for (const listener of failureListeners) listener(error);
}

/** "Too many requests — try again in 40 seconds.", from Retry-After (seconds) or the body's retry_after. */
export function tooManyRequests(retryAfter: unknown): string {
  const seconds = Math.ceil(Number(retryAfter));
  if (!Number.isFinite(seconds) || seconds <= 0) return 'Too many requests — wait a moment and try again.';
  const minutes = Math.ceil(seconds / 60);
  const hours = Math.ceil(seconds / 3600);
  const wait =
    seconds < 60 ? `${seconds} second${seconds === 1 ? '' : 's'}` : seconds < 3600 ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${hours} hour${hours === 1 ? '' : 's'}`;
  return `Too many requests — try again in ${wait}.`;
}

/** A readable message from FastAPI's error bodies: {"detail": "..."} or a validation error list. */
export function describeError(body: unknown, status: number): string {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (typeof detail === 'string' && detail.trim()) return detail;
  if (Array.isArray(detail)) {
    const parts = detail
      .map((d) => {
        const item = d as { msg?: unknown; loc?: unknown };
        const where = Array.isArray(item.loc) ? item.loc.filter((x) => x !== 'body').join('.') : '';
        return typeof item.msg === 'string' ? (where ? `${where}: ${item.msg}` : item.msg) : null;
      })
      .filter(Boolean);
    if (parts.length) return parts.join('; ');
  }
  if (status === 404) return 'Not found.';
  if (status >= 500) return `The server had a problem (HTTP ${status}). Try again in a moment.`;
  return `The request failed (HTTP ${status}).`;
}

export const client = createClient<paths>({
  baseUrl: typeof window !== 'undefined' ? window.location.origin : 'http://localhost',
  // Looked up at call time, so tests can stub fetch after this module loaded.
  fetch: (request: Request) => globalThis.fetch(request),
});

client.use({
  onRequest({ request }) {
    if (csrfToken && UNSAFE_METHODS.has(request.method)) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
});

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

export async function call<T>(request: () => Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await request();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError("Can't reach the Agente Films server. Check that it is running; this page retries by itself.", 0);
  }
  const { data, error, response } = result;
  if (!response.ok) throw errorFrom(error, response.status, response.headers);
  return data as T;
}

const session = (id: string) => ({ params: { path: { session_id: id } } });

export const api = {
  info: () => call(() => client.GET('/api/v1/info')),
  listSessions: (limit = 50, offset = 0) =>
    call(() => client.GET('/api/v1/sessions', { params: { query: { limit, offset } } })),
  createSession: (title?: string) =>
    call(() => client.POST('/api/v1/sessions', { body: title ? { title } : {} })),
  getSession: (id: string) => call(() => client.GET('/api/v1/sessions/{session_id}', session(id))),
  renameSession: (id: string, title: string) =>
    call(() => client.PATCH('/api/v1/sessions/{session_id}', { ...session(id), body: { title } })),
  deleteSession: (id: string) =>
    call(() => client.DELETE('/api/v1/sessions/{session_id}', session(id))),
  /** Read-only until unarchived (retention archives idle sessions too); 409 during a run. */
  archiveSession: (id: string) => call(() => client.POST('/api/v1/sessions/{session_id}/archive', session(id))),
  /** Active again; its idle clock starts anew. */
  unarchiveSession: (id: string) => call(() => client.POST('/api/v1/sessions/{session_id}/unarchive', session(id))),
  history: (id: string) => call(() => client.GET('/api/v1/sessions/{session_id}/history', session(id))),
  timeline: (id: string) => call(() => client.GET('/api/v1/sessions/{session_id}/timeline', session(id))),
  state: (id: string) => call(() => client.GET('/api/v1/sessions/{session_id}/state', session(id))),
  stateVersions: (id: string) => call(() => client.GET('/api/v1/sessions/{session_id}/states', session(id))),
  stateVersion: (id: string, version: number) =>
    call(() =>
      client.GET('/api/v1/sessions/{session_id}/states/{version}', {
        params: { path: { session_id: id, version } },
      }),
    ),
  usage: (id: string) => call(() => client.GET('/api/v1/sessions/{session_id}/usage', session(id))),
  pitches: (id: string) => call(() => client.GET('/api/v1/sessions/{session_id}/pitches', session(id))),
  /** Starts a run (RunOut), or while one works stores a producer's note (NoteOut, 202). */
  sendMessage: (id: string, content: string, direction: Tone[] = []) =>
    call(() =>
      client.POST('/api/v1/sessions/{session_id}/messages/async', {
        ...session(id),
        body: direction.length ? { content, direction } : { content },
      }),
    ),
  resume: (id: string, runId: string) =>
    call(() =>
      client.POST('/api/v1/sessions/{session_id}/runs/{run_id}/resume', { params: { path: { session_id: id, run_id: runId } } }),
    ),
  cancel: (id: string) => call(() => client.POST('/api/v1/sessions/{session_id}/cancel', session(id))),
  /** Runs one stage again (202 with the run; it streams on the session socket like any run). */
  regenerate: (id: string, stage: Stage) =>
    call(() => client.POST('/api/v1/sessions/{session_id}/regenerate', { ...session(id), body: { stage } })),
  /** An edit by hand of the outline or the direction, made on state version `expectedVersion`. */
  editState: (id: string, expectedVersion: number, changes: { PLOT_OUTLINE?: string; direction?: string }) =>
    call(() =>
      client.PATCH('/api/v1/sessions/{session_id}/state', { ...session(id), body: { expected_version: expectedVersion, changes } }),
    ),
  /** Takes back the last revision, regeneration or edit, in place. */
  undo: (id: string) => call(() => client.POST('/api/v1/sessions/{session_id}/undo', session(id))),
  /** A new session that starts from a round or a state version of this one (201). */
  createBranch: (id: string, point: BranchIn) =>
    call(() => client.POST('/api/v1/sessions/{session_id}/branches', { ...session(id), body: point })),
  branches: (id: string) => call(() => client.GET('/api/v1/sessions/{session_id}/branches', session(id))),
  drafts: (id: string) => call(() => client.GET('/api/v1/sessions/{session_id}/drafts', session(id))),
  /** Two drafts or pitch versions, of this session or of its family (refs: draftRef, pitchRef). */
  compare: (id: string, a: string, b: string) =>
    call(() => client.GET('/api/v1/sessions/{session_id}/compare', { params: { path: { session_id: id }, query: { a, b } } })),
  /** The Markdown text of a pitch document (its URL comes from the pitches list or the socket). */
  async documentText(url: string): Promise<string> {
    let response: Response;
    try {
      response = await globalThis.fetch(url);
    } catch {
      throw new ApiError("Can't reach the Agente Films server.", 0);
    }
    if (!response.ok) {
      const body: unknown = await response.json().catch(() => null);
      throw errorFrom(body, response.status, response.headers);
    }
    return response.text();
  },
};

export type Api = typeof api;

/** Where a draft's outline downloads as Markdown. */
export function draftUrl(sessionId: string, version: number): string {
  return `/api/v1/sessions/${encodeURIComponent(sessionId)}/drafts/${version}`;
}

/** The compare endpoint's names of a draft and of a pitch document's version. */
export function draftRef(sessionId: string, version: number): string {
  return `draft:${sessionId}:${version}`;
}

export function pitchRef(sessionId: string, filename: string, version: number): string {
  return `pitch:${sessionId}:${filename}:${version}`;
}
