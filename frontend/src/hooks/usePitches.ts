/**
 * A session's pitch documents: loaded once, then again when a run ends (an undo marks a version
 * undone) and when the stream tells of a saved version the list does not have yet. Replayed frames
 * of what happened before the page connected cost nothing when the list already has their versions.
 */
import { useEffect, useMemo, useRef, useState } from 'react';

import { api, type PitchOut } from '../api/client';
import { coalesce } from '../api/coalesce';

/** A document version the stream said was saved (artifact_saved). */
export interface SavedVersion {
  filename: string;
  version: number;
}

function listed(pitches: PitchOut[], saved: SavedVersion): boolean {
  return pitches.some((p) => p.filename === saved.filename && p.versions.some((v) => v.version >= saved.version));
}

/**
 * `runsEnded` changes when a run ended (news, not a replay); `saved` are the versions the stream
 * said were saved (a new one the list lacks loads it again, once).
 */
export function usePitches(sessionId: string, runsEnded: number, saved: readonly SavedVersion[], client = api) {
  const [pitches, setPitches] = useState<PitchOut[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  const load = useMemo(
    () =>
      coalesce(async () => {
        try {
          setPitches(await client.pitches(sessionId));
          setError(null);
        } catch (err) {
          setError(err instanceof Error ? err.message : String(err));
        } finally {
          setLoading(false);
        }
      }),
    [client, sessionId],
  );

  useEffect(() => {
    void load();
  }, [load, runsEnded]);

  // Saved versions the loaded list lacks: saved since it loaded (or while it did). Asked for once
  // each, so a version the server does not list (yet) cannot make it load again and again.
  const asked = useRef(new Set<string>());
  const missing = loading
    ? ''
    : saved
        .filter((v) => !listed(pitches, v))
        .map((v) => `${v.filename}@${v.version}`)
        .filter((key) => !asked.current.has(key))
        .join('\n');
  useEffect(() => {
    if (!missing) return;
    for (const key of missing.split('\n')) asked.current.add(key);
    void load();
  }, [missing, load]);

  return { pitches, error, loading, reload: load };
}
