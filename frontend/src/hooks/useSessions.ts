/**
 * The sidebar's session list: newest first, paged, with create / rename / archive / delete.
 * Loaded once; then refreshed when something says it changed (`refresh`, which never runs two
 * loads at once), and polled only for sessions running where no open socket reports on them.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';

import { api, type SessionOut } from '../api/client';
import { coalesce } from '../api/coalesce';

const PAGE = 30;

export interface SessionsOptions {
  /** The session open on this page: its socket tells when its runs start and end, so a run of
   * its own is no reason to poll the list. */
  current?: string | null;
}

export function useSessions(client = api, { current = null }: SessionsOptions = {}) {
  const [items, setItems] = useState<SessionOut[]>([]);
  const [total, setTotal] = useState(0);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const shown = useRef(PAGE);

  // Reasons to reload that come together (a run's end, a rename, a branch) share the requests.
  const refresh = useMemo(
    () =>
      coalesce(async () => {
        try {
          const page = await client.listSessions(Math.min(shown.current, 100), 0);
          setItems(page.items);
          setTotal(page.total);
          setError(null);
        } catch (err) {
          setError(err instanceof Error ? err.message : String(err));
        } finally {
          setLoaded(true);
        }
      }),
    [client],
  );

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // While a session runs in another tab or in the background, keep its status fresh; while the
  // list could not load, keep trying.
  const anyRunning = items.some((s) => s.status === 'running' && s.id !== current);
  useEffect(() => {
    if (!anyRunning && !error) return;
    const timer = setInterval(() => void refresh(), error ? 5000 : 4000);
    return () => clearInterval(timer);
  }, [anyRunning, error, refresh]);

  const loadMore = useCallback(async () => {
    shown.current += PAGE;
    await refresh();
  }, [refresh]);

  const create = useCallback(
    async (title?: string) => {
      const created = await client.createSession(title);
      setItems((list) => [created, ...list.filter((s) => s.id !== created.id)]);
      setTotal((t) => t + 1);
      return created;
    },
    [client],
  );

  /** A session made elsewhere (a branch): listed at once, before the next refresh. */
  const itemsRef = useRef(items);
  useEffect(() => {
    itemsRef.current = items;
  }, [items]);
  const add = useCallback((session: SessionOut) => {
    if (!itemsRef.current.some((s) => s.id === session.id)) setTotal((t) => t + 1);
    setItems((list) => (list.some((s) => s.id === session.id) ? list.map((s) => (s.id === session.id ? session : s)) : [session, ...list]));
  }, []);

  const rename = useCallback(
    async (id: string, title: string) => {
      const updated = await client.renameSession(id, title);
      setItems((list) => list.map((s) => (s.id === id ? updated : s)));
      return updated;
    },
    [client],
  );

  /** Archive (read-only) or unarchive; the list shows the session as the server answers it. */
  const setArchived = useCallback(
    async (id: string, archived: boolean) => {
      const updated = await (archived ? client.archiveSession(id) : client.unarchiveSession(id));
      setItems((list) => list.map((s) => (s.id === id ? updated : s)));
      return updated;
    },
    [client],
  );

  const remove = useCallback(
    async (id: string) => {
      await client.deleteSession(id);
      setItems((list) => list.filter((s) => s.id !== id));
      setTotal((t) => Math.max(0, t - 1));
    },
    [client],
  );

  return { items, total, loaded, error, refresh, loadMore, create, add, rename, setArchived, remove };
}

export type SessionsHandle = ReturnType<typeof useSessions>;
