/** What the server runs on (/api/v1/info): models, limits. Retries while the server is unreachable. */
import { useEffect, useState } from 'react';

import { api, type InfoOut } from '../api/client';

export type InfoState = { info: InfoOut | null; error: string | null };

export function useInfo(client = api): InfoState {
  const [state, setState] = useState<InfoState>({ info: null, error: null });
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delay = 1000;
    const load = async () => {
      try {
        const info = await client.info();
        if (!stopped) setState({ info, error: null });
      } catch (err) {
        if (stopped) return;
        setState((s) => ({ info: s.info, error: err instanceof Error ? err.message : String(err) }));
        timer = setTimeout(load, delay);
        delay = Math.min(delay * 2, 10000);
      }
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [client]);
  return state;
}
