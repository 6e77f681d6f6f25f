import { useState } from 'react';

import type { Outcome } from '../stream/useSession';

/** One request a button makes: whether it is under way, and what went wrong, in words. */
export function useAction<A extends unknown[], T>(action: (...args: A) => Promise<Outcome<T>>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (...args: A): Promise<Outcome<T>> => {
    setBusy(true);
    setError(null);
    const outcome = await action(...args);
    setBusy(false);
    if (!outcome.ok) setError(outcome.message);
    return outcome;
  };
  return { busy, error, run };
}
