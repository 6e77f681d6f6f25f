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

export class ApiError extends Error {
  readonly status: number;
  readonly runId: string | null;

  constructor(message: string, status: number, runId: string | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.runId = runId;
  }
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

export const USER_ID = 'local';

const client = createClient<paths>({
  baseUrl: typeof window !== 'undefined' ? window.location.origin : 'http://localhost',
  // Looked up at call time, so tests can stub fetch after this module loaded.
  fetch: (request: Request) => globalThis.fetch(request),
  headers: { 'X-User-Id': USER_ID },
});

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

async function call<T>(request: () => Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await request();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError("Can't reach the Agente Films server. Check that it is running; this page retries by itself.", 0);
  }
  const { data, error, response } = result;
  if (!response.ok) {
    const runId = (error as { run_id?: unknown } | undefined)?.run_id;
    throw new ApiError(describeError(error, response.status), response.status, typeof runId === 'string' ? runId : null);
  }
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
  /** The Markdown text of a pitch document (its URL comes from the pitches list or the socket). */
  async documentText(url: string): Promise<string> {
    let response: Response;
    try {
      response = await globalThis.fetch(url, { headers: { 'X-User-Id': USER_ID } });
    } catch {
      throw new ApiError("Can't reach the Agente Films server.", 0);
    }
    if (!response.ok) {
      const body: unknown = await response.json().catch(() => null);
      throw new ApiError(describeError(body, response.status), response.status);
    }
    return response.text();
  },
};

export type Api = typeof api;
