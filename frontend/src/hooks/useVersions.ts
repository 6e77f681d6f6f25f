/**
 * The versions a person can compare and download: outline drafts and pitch document versions, of
 * this session and of its family (its parent and its branches), as options for the compare view.
 */
import { useEffect, useRef, useState } from 'react';

import { api, draftRef, draftUrl, pitchRef, type DraftOut, type PitchOut, type SessionOut } from '../api/client';
import { agentMeta } from '../stream/agents';
import type { Draft, RunView } from '../stream/types';
import { versionLabel } from '../lib/format';

export interface VersionOption {
  /** The compare endpoint's name for it: `draft:<session>:<version>` or `pitch:<session>:<file>:<version>`. */
  ref: string;
  sessionId: string;
  kind: 'draft' | 'pitch';
  /** Whose version: "This session", "Parent · <title>", "Branch · <title>". */
  group: string;
  label: string;
  /** The text, when this page already has it (this session's drafts); else the server sends it. */
  text: string | null;
  downloadUrl: string;
}

export const THIS_SESSION = 'This session';

/** "Draft 3 · Screenwriter, round 2 (v14)", "Draft 4 · your edit (v17)". */
export function draftName(index: number, agent: string | null | undefined, round: number | null | undefined, version: number): string {
  const who = agent === 'producer' ? 'your edit' : agentMeta(agent ?? 'screenwriter').label;
  return `Draft ${index + 1} · ${who}${round ? `, round ${round}` : ''} (v${version})`;
}

/** The writers' room round that wrote each state version, from the runs' state entries. */
export function draftRounds(runs: RunView[]): Map<number, number> {
  const rounds = new Map<number, number>();
  for (const run of runs) {
    for (const entry of run.entries) {
      if (entry.kind === 'state' && entry.version !== null && entry.round) rounds.set(entry.version, entry.round);
    }
  }
  return rounds;
}

export function localDraftOptions(sessionId: string, drafts: Draft[], rounds: Map<number, number>): VersionOption[] {
  return drafts.map((d, i) => ({
    ref: draftRef(sessionId, d.version),
    sessionId,
    kind: 'draft',
    group: THIS_SESSION,
    label: draftName(i, d.agent, rounds.get(d.version), d.version),
    text: d.text,
    downloadUrl: draftUrl(sessionId, d.version),
  }));
}

export function remoteDraftOptions(sessionId: string, drafts: DraftOut[], group: string): VersionOption[] {
  return drafts.map((d) => ({
    ref: draftRef(sessionId, d.version),
    sessionId,
    kind: 'draft',
    group,
    label: draftName(d.number - 1, d.agent, d.round, d.version),
    text: null,
    downloadUrl: d.download_url,
  }));
}

export function pitchOptions(sessionId: string, pitches: PitchOut[], group: string): VersionOption[] {
  return pitches.flatMap((p) =>
    p.versions.map((v) => ({
      ref: pitchRef(sessionId, p.filename, v.version),
      sessionId,
      kind: 'pitch' as const,
      group,
      label: `Pitch ${versionLabel(v.version)}${pitches.length > 1 ? ` · ${p.filename}` : ''}${v.undone ? ' (undone)' : ''}`,
      text: null,
      downloadUrl: v.markdown_url,
    })),
  );
}

export interface FamilyMember {
  session: SessionOut;
  relation: 'parent' | 'branch';
}

export function familyGroup(member: FamilyMember): string {
  return `${member.relation === 'parent' ? 'Parent' : 'Branch'} · ${member.session.title}`;
}

/**
 * The drafts and pitch versions of the other sessions of the family, loaded when first `enabled`
 * (the Story tab is open), and again only when they may have changed: a member's title or last
 * change differs in the session list, or `token` moved. Opening the tab again costs nothing.
 */
export function useFamilyVersions(members: FamilyMember[], enabled: boolean, token: number, client = api) {
  const [options, setOptions] = useState<VersionOption[]>([]);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const key = members.map((m) => `${m.relation}:${m.session.id}:${m.session.title}:${m.session.updated_at}`).join('|');
  /** What the options were loaded for: the members' key and the token. */
  const loadedFor = useRef<string | null>(null);

  useEffect(() => {
    if (members.length === 0) {
      loadedFor.current = null;
      setOptions([]);
      setError(null);
      return;
    }
    const want = `${key}#${token}`;
    if (!enabled || loadedFor.current === want) return;
    let stopped = false;
    setLoading(true);
    void (async () => {
      const problems: string[] = [];
      const lists = await Promise.all(
        members.map(async (member) => {
          const group = familyGroup(member);
          const [drafts, pitches] = await Promise.all([
            client.drafts(member.session.id).catch((err: unknown) => {
              problems.push(`${member.session.title}: ${err instanceof Error ? err.message : String(err)}`);
              return [] as DraftOut[];
            }),
            client.pitches(member.session.id).catch(() => [] as PitchOut[]),
          ]);
          return [...remoteDraftOptions(member.session.id, drafts, group), ...pitchOptions(member.session.id, pitches, group)];
        }),
      );
      if (stopped) return;
      loadedFor.current = want;
      setOptions(lists.flat());
      setError(problems.length ? `Could not load every version: ${problems.join('; ')}` : null);
      setLoading(false);
    })();
    return () => {
      stopped = true;
      setLoading(false);
    };
    // `key` names the members (the array itself is new on every render).
  }, [key, enabled, token, client]); // eslint-disable-line react-hooks/exhaustive-deps

  return { options, loading, error };
}
