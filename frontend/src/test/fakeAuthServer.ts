/**
 * A stand-in for the backend's sign-in routes and the few studio routes the start page calls, as a
 * stubbed fetch: a "cookie" (who is signed in), the CSRF check on changes, accounts and API tokens.
 * Tests read `requests` and may answer a path their own way with `override`.
 */
import { vi } from 'vitest';

import type { ApiToken, AuthConfig, Me } from '../api/auth';

type Mode = AuthConfig['auth_mode'];

export interface SeenRequest {
  method: string;
  path: string;
  headers: Headers;
  body: unknown;
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function fakeAuthServer({ mode = 'password', signupOpen = true, oidc = false }: { mode?: Mode; signupOpen?: boolean; oidc?: boolean } = {}) {
  const passwords = new Map<string, string>([['alice', 'correct horse battery']]);
  const tokens: ApiToken[] = [];
  const requests: SeenRequest[] = [];
  const overrides = new Map<string, (request: SeenRequest) => Response | null>();
  let user: string | null = mode === 'none' ? 'local' : null;
  let serial = 0;

  const csrfOf = (name: string) => `csrf-${name}`;
  const me = (name: string): Me => ({
    user_id: `id-${name}`,
    username: name,
    is_admin: name === 'local',
    via: mode === 'none' ? 'none' : 'cookie',
    csrf_token: mode === 'none' ? null : csrfOf(name),
  });
  const notSignedIn = () => json({ detail: 'Sign in first.', code: 'not_signed_in' }, 401);

  function answer(request: SeenRequest): Response {
    const { method, path, body } = request;
    const fields = (body ?? {}) as Record<string, string>;
    if (path === '/api/v1/auth/config') return json({ auth_mode: mode, signup_open: mode === 'password' && signupOpen, oidc_enabled: oidc || mode === 'oidc' });
    if (path === '/api/v1/auth/signin' && method === 'POST') {
      const name = String(fields.username ?? '').toLowerCase();
      if (passwords.get(name) !== fields.password) return json({ detail: 'Wrong username or password.', code: 'bad_credentials' }, 401);
      user = name;
      return json(me(name));
    }
    if (path === '/api/v1/auth/signup' && method === 'POST') {
      const name = String(fields.username ?? '').toLowerCase();
      if (passwords.has(name)) return json({ detail: `The username '${name}' is taken.` }, 409);
      passwords.set(name, String(fields.password));
      user = name;
      return json(me(name), 201);
    }
    // Everything else needs someone signed in, and a change made with the cookie its CSRF token.
    if (!user) return notSignedIn();
    if (mode !== 'none' && UNSAFE.has(method) && request.headers.get('X-CSRF-Token') !== csrfOf(user)) {
      return json({ detail: 'The CSRF token is missing or wrong.', code: 'csrf_failed' }, 403);
    }
    if (path === '/api/v1/auth/me') return json(me(user));
    if (path === '/api/v1/auth/signout' && method === 'POST') {
      user = null;
      return json(null, 204);
    }
    if (path === '/api/v1/auth/password' && method === 'POST') {
      if (passwords.get(user) !== fields.current_password) return json({ detail: 'The current password is wrong.', code: 'forbidden' }, 403);
      passwords.set(user, String(fields.new_password));
      return json(null, 204);
    }
    if (path === '/api/v1/auth/tokens' && method === 'GET') return json(tokens);
    if (path === '/api/v1/auth/tokens' && method === 'POST') {
      const id = `00000000-0000-4000-8000-${String(++serial).padStart(12, '0')}`;
      const secret = `afp_secret${serial}xyzxyzxyzxyz`;
      const row: ApiToken = { id, name: fields.name ?? '', prefix: secret.slice(0, 12), created_at: new Date().toISOString(), last_used_at: null, expires_at: null };
      tokens.unshift(row);
      return json({ ...row, token: secret }, 201);
    }
    const revoke = /^\/api\/v1\/auth\/tokens\/(.+)$/.exec(path);
    if (revoke && method === 'DELETE') {
      const index = tokens.findIndex((t) => t.id === revoke[1]);
      if (index < 0) return json({ detail: 'Token not found.' }, 404);
      tokens.splice(index, 1);
      return json(null, 204);
    }
    if (path === '/api/v1/info') return json({ version: 'test', models: {}, offline: true, max_message_chars: 8000, writers_room_max_iterations: 5, agents: {} });
    if (path === '/api/v1/sessions' && method === 'GET') return json({ items: [], total: 0, limit: 30, offset: 0 });
    if (path === '/api/v1/sessions' && method === 'POST') {
      const now = new Date().toISOString();
      return json({ id: '11111111-1111-4111-8111-111111111111', title: 'New pitch', status: 'idle', model: 'offline', created_at: now, updated_at: now }, 201);
    }
    return json({ detail: 'Not found.' }, 404);
  }

  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(new URL(String(input), 'http://localhost'), init);
    const text = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.clone().text();
    const seen: SeenRequest = { method: request.method, path: new URL(request.url).pathname, headers: request.headers, body: text ? JSON.parse(text) : null };
    requests.push(seen);
    const custom = overrides.get(`${seen.method} ${seen.path}`)?.(seen);
    return custom ?? answer(seen);
  });
  vi.stubGlobal('fetch', fetch);

  return {
    requests,
    /** Answers `METHOD /path` with `respond` (null: the usual answer). */
    override(key: string, respond: (request: SeenRequest) => Response | null) {
      overrides.set(key, respond);
    },
    /** The sign-in ends on the server (expired, or signed out in another tab). */
    expire() {
      user = null;
    },
    signedInAs: () => user,
    tokens,
  };
}
