/**
 * Who uses the page: the server's sign-in setup (/auth/config), then the signed-in account (/auth/me).
 * Keeps the client's CSRF token in step with the sign-in, and returns to the sign-in page when any
 * request answers 401 (the sign-in expired, was revoked, or ended in another tab).
 */
import { useCallback, useEffect, useRef, useState } from 'react';

import { authApi, type AuthConfig, type Me } from '../api/auth';
import { ApiError, onApiFailure, setCsrfToken } from '../api/client';

export type AuthState =
  | { status: 'loading' }
  /** The server did not answer: the studio shows as before (its banner says so) while this retries. */
  | { status: 'unreachable'; error: string }
  | { status: 'signed_out'; config: AuthConfig }
  | { status: 'signed_in'; config: AuthConfig; me: Me };

/** A 401 that means "nobody is signed in", not "that password is wrong". */
function signedOutBy(error: ApiError): boolean {
  return error.status === 401 && (error.code === null || error.code === 'not_signed_in');
}

export function useAuth(client = authApi) {
  const [state, setState] = useState<AuthState>({ status: 'loading' });
  const stateRef = useRef(state);
  stateRef.current = state;
  const retry = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const delay = useRef(1000);

  const enter = useCallback((config: AuthConfig, me: Me | null) => {
    setCsrfToken(me?.csrf_token ?? null);
    setState(me ? { status: 'signed_in', config, me } : { status: 'signed_out', config });
  }, []);

  const load = useCallback(async () => {
    clearTimeout(retry.current);
    try {
      // Both at once: the studio (or the sign-in page) waits for the slower of the two only.
      const [config, me] = await Promise.all([
        client.config(),
        client.me().catch((err: unknown) => {
          if (err instanceof ApiError && err.status === 401) return null;
          throw err;
        }),
      ]);
      delay.current = 1000;
      enter(config, me);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      setState((s) => (s.status === 'loading' || s.status === 'unreachable' ? { status: 'unreachable', error: message } : s));
      retry.current = setTimeout(() => void load(), delay.current);
      delay.current = Math.min(delay.current * 2, 10000);
    }
  }, [client, enter]);

  useEffect(() => {
    void load();
    return () => clearTimeout(retry.current);
  }, [load]);

  // Any request that finds nobody signed in ends the signed-in view; one refused for its CSRF token
  // (the sign-in changed in another tab) reads who is signed in now.
  useEffect(
    () =>
      onApiFailure((error) => {
        const current = stateRef.current;
        if (current.status !== 'signed_in') return;
        if (signedOutBy(error)) enter(current.config, null);
        else if (error.status === 403 && error.code === 'csrf_failed') void load();
      }),
    [enter, load],
  );

  const config = state.status === 'signed_in' || state.status === 'signed_out' ? state.config : null;

  const signIn = useCallback(
    async (username: string, password: string) => {
      const me = await client.signIn(username, password);
      if (config) enter(config, me);
      else await load();
    },
    [client, config, enter, load],
  );

  const signUp = useCallback(
    async (username: string, password: string) => {
      const me = await client.signUp(username, password);
      if (config) enter(config, me);
      else await load();
    },
    [client, config, enter, load],
  );

  const signOut = useCallback(async () => {
    try {
      await client.signOut();
    } catch (err) {
      // Already signed out is signed out; anything else (the server is down) must not pretend.
      if (!(err instanceof ApiError && err.status === 401)) throw err;
    }
    if (config) enter(config, null);
    else await load();
  }, [client, config, enter, load]);

  /** After a password change the server may start a new sign-in: read it (and its CSRF token) again. */
  const refresh = useCallback(() => load(), [load]);

  return { state, signIn, signUp, signOut, refresh };
}

export type AuthHandle = ReturnType<typeof useAuth>;
