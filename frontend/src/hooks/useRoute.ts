/** Tiny router: "/" is the welcome page, "/s/<session id>" a session. Back/forward work. */
import { useCallback, useEffect, useState } from 'react';

export function sessionIdFromPath(pathname: string): string | null {
  const match = /^\/s\/([0-9a-fA-F-]{8,64})\/?$/.exec(pathname);
  return match?.[1] ?? null;
}

export function useRoute() {
  const [sessionId, setSessionId] = useState(() => sessionIdFromPath(window.location.pathname));

  useEffect(() => {
    const onPop = () => setSessionId(sessionIdFromPath(window.location.pathname));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const navigate = useCallback((id: string | null, { replace = false } = {}) => {
    const path = id ? `/s/${id}` : '/';
    if (window.location.pathname !== path) {
      if (replace) window.history.replaceState(null, '', path);
      else window.history.pushState(null, '', path);
    }
    setSessionId(id);
  }, []);

  return { sessionId, navigate };
}
