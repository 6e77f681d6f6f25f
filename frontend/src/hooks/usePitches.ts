/** A session's pitch documents; reloaded when one is saved and when a run ends. */
import { useCallback, useEffect, useState } from 'react';

import { api, type PitchOut } from '../api/client';

export function usePitches(sessionId: string, token: number, busy: boolean, client = api) {
  const [pitches, setPitches] = useState<PitchOut[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  const load = useCallback(async () => {
    try {
      setPitches(await client.pitches(sessionId));
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setLoading(false);
    }
  }, [client, sessionId]);

  useEffect(() => {
    void load();
  }, [load, token, busy]);

  return { pitches, error, loading, reload: load };
}
