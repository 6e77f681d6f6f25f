/**
 * One reload at a time. Calls while a load is under way do not start loads of their own: they
 * share one more load, started when the current one ends (the change that asked for it may have
 * come after the current load read the server). So a burst of reasons to reload (a run's end, a
 * saved document, a rename) costs at most two requests, and the last answer is never stale.
 */
export function coalesce<T>(load: () => Promise<T>): () => Promise<T> {
  let current: Promise<T> | null = null;
  let next: Promise<T> | null = null;

  const start = (): Promise<T> => {
    const promise = load().finally(() => {
      if (current === promise) current = null;
    });
    current = promise;
    return promise;
  };

  return () => {
    if (!current) return start();
    next ??= current
      .catch(() => undefined)
      .then(() => {
        next = null;
        return start();
      });
    return next;
  };
}
