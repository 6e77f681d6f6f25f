/** Share links on the shared typed client: the owner's (make, list, revoke) and the public read-only view. */
import { call, client } from './client';
import type { components } from './schema';

type Schemas = components['schemas'];
/** A live share link of a session: the page to send people, and when it stops opening. */
export type ShareLink = Schemas['ShareOut'];
/** What a share link shows: the session's title, its story and its pitch documents. */
export type SharedView = Schemas['SharedViewOut'];

const session = (id: string) => ({ params: { path: { session_id: id } } });

export const shareApi = {
  list: (sessionId: string) => call(() => client.GET('/api/v1/sessions/{session_id}/shares', session(sessionId))),
  create: (sessionId: string, days: number) =>
    call(() => client.POST('/api/v1/sessions/{session_id}/shares', { ...session(sessionId), body: { days } })),
  revoke: (sessionId: string, shareId: string) =>
    call(() => client.DELETE('/api/v1/sessions/{session_id}/shares/{share_id}', { params: { path: { session_id: sessionId, share_id: shareId } } })),
  /** Anyone's read of a share link: no sign-in, no cookie needed. */
  view: (token: string) => call(() => client.GET('/api/v1/shared/{token}', { params: { path: { token } } })),
};

export type ShareApi = typeof shareApi;
