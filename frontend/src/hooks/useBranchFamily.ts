/**
 * A session's family of branches: the session it was branched from (its parent) and the branches
 * made from it, and making a new branch. The branches are asked for once per session: a branch made
 * here is added at once, one made elsewhere shows with the session list (which names each session's
 * parent) when that refreshes.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';

import { api, type BranchIn, type SessionOut } from '../api/client';
import { attempt, type Outcome } from '../stream/useSession';
import type { FamilyMember } from './useVersions';

export function useBranchFamily(sessionId: string, session: SessionOut | undefined, known: SessionOut[], client = api) {
  const parentId = session?.parent_id ?? null;
  const knownParent = parentId ? (known.find((s) => s.id === parentId) ?? null) : null;
  const [fetchedParent, setFetchedParent] = useState<SessionOut | null>(null);
  const [branches, setBranches] = useState<SessionOut[] | null>(null);

  // The parent, when the sidebar's page does not have it.
  useEffect(() => {
    if (!parentId || knownParent) return;
    let stopped = false;
    client
      .getSession(parentId)
      .then((s) => !stopped && setFetchedParent(s))
      .catch(() => !stopped && setFetchedParent(null));
    return () => {
      stopped = true;
    };
  }, [client, parentId, knownParent]);

  // The branches made from this session; the sidebar's list stands in if the server cannot say.
  useEffect(() => {
    let stopped = false;
    client
      .branches(sessionId)
      .then((list) => !stopped && setBranches(list))
      .catch(() => !stopped && setBranches(null));
    return () => {
      stopped = true;
    };
  }, [client, sessionId]);

  const parent = knownParent ?? (fetchedParent?.id === parentId ? fetchedParent : null);
  const children = useMemo(() => {
    const listed = known.filter((s) => s.parent_id === sessionId);
    const all = [...(branches ?? []), ...listed.filter((s) => !(branches ?? []).some((b) => b.id === s.id))];
    return all.map((b) => known.find((s) => s.id === b.id) ?? b);
  }, [branches, known, sessionId]);

  const members = useMemo<FamilyMember[]>(
    () => [...(parent ? [{ session: parent, relation: 'parent' as const }] : []), ...children.map((s) => ({ session: s, relation: 'branch' as const }))],
    [parent, children],
  );

  /** A new session from a round or a state version of this one. */
  const branch = useCallback(
    async (point: BranchIn): Promise<Outcome<SessionOut>> => {
      const outcome = await attempt(() => client.createBranch(sessionId, point));
      if (outcome.ok) setBranches((list) => [outcome.value, ...(list ?? [])]);
      return outcome;
    },
    [client, sessionId],
  );

  return { parent, parentId, branches: children, members, branch };
}
