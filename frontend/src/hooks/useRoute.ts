/** Tiny router: "/" is the welcome page, "/s/<session id>" a session, "/signin" and "/signup" the
 * pages of a signed-out visitor. Back/forward work. */
import { useCallback, useEffect, useState } from 'react';

export function sessionIdFromPath(pathname: string): string | null {
  const match = /^\/s\/([0-9a-fA-F-]{8,64})\/?$/.exec(pathname);
  return match?.[1] ?? null;
}

/** A share link's read-only page, "/shared/<signed token>" (anyone may open it, signed in or not). */
export function sharedTokenFromPath(pathname: string): string | null {
  const match = /^\/shared\/([A-Za-z0-9_.-]{1,400})\/?$/.exec(pathname);
  return match?.[1] ?? null;
}

export type AuthPage = 'signin' | 'signup';

export function authPageFromPath(pathname: string): AuthPage | null {
  const match = /^\/(signin|signup)\/?$/.exec(pathname);
  return (match?.[1] as AuthPage | undefined) ?? null;
}

export function useRoute() {
  const [sessionId, setSessionId] = useState(() => sessionIdFromPath(window.location.pathname));
  const [authPage, setAuthPage] = useState(() => authPageFromPath(window.location.pathname));

  useEffect(() => {
    const onPop = () => {
      setSessionId(sessionIdFromPath(window.location.pathname));
      setAuthPage(authPageFromPath(window.location.pathname));
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  /** To the sign-in or sign-up page, or (null) back to the studio's start page. */
  const openAuthPage = useCallback((page: AuthPage | null, { replace = false } = {}) => {
    const path = page ? `/${page}` : '/';
    if (window.location.pathname !== path) {
      if (replace) window.history.replaceState(null, '', path);
      else window.history.pushState(null, '', path);
    }
    setAuthPage(page);
    setSessionId(null);
  }, []);

  const navigate = useCallback((id: string | null, { replace = false } = {}) => {
    const path = id ? `/s/${id}` : '/';
    if (window.location.pathname !== path) {
      if (replace) window.history.replaceState(null, '', path);
      else window.history.pushState(null, '', path);
    }
    setSessionId(id);
    setAuthPage(null);
  }, []);

  return { sessionId, navigate, authPage, openAuthPage };
}
