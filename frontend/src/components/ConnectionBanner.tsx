import { CircleCheck, RefreshCw, ShieldAlert, WifiOff } from 'lucide-react';
import { useEffect, useState } from 'react';

import type { ConnectionInfo } from '../stream/useSessionSocket';
import { Button } from './ui';

const SHOW_RECONNECTED_MS = 4000;

/** Says when the live connection dropped, counts down to the next try, and confirms the catch-up. */
export function ConnectionBanner({ connection, onRetry }: { connection: ConnectionInfo; onRetry: () => void }) {
  const [now, setNow] = useState(() => Date.now());
  const reconnecting = connection.status === 'reconnecting';
  useEffect(() => {
    if (reconnecting) {
      // Count down to the next attempt.
      const timer = setInterval(() => setNow(Date.now()), 250);
      return () => clearInterval(timer);
    }
    if (connection.reconnectedAt === null) return;
    // Show "reconnected" for a few seconds, then hide it.
    setNow(Date.now());
    const timer = setTimeout(() => setNow(Date.now()), Math.max(0, connection.reconnectedAt + SHOW_RECONNECTED_MS - Date.now()) + 50);
    return () => clearTimeout(timer);
  }, [reconnecting, connection.reconnectedAt]);

  if (reconnecting) {
    const seconds = connection.retryAt ? Math.max(0, Math.ceil((connection.retryAt - now) / 1000)) : 0;
    return (
      <div
        role="status"
        data-testid="connection-banner"
        data-state="reconnecting"
        className="flex items-center gap-3 border-b border-amber-200 bg-amber-50 px-4 py-2 text-sm text-amber-900 dark:border-amber-500/20 dark:bg-amber-500/10 dark:text-amber-200"
      >
        <WifiOff aria-hidden className="size-4 shrink-0" />
        <p className="min-w-0 flex-1">
          {/* A rate limit says so (and waits as long as the server asked); a drop is a drop. */}
          <span className="font-medium">{connection.reason ?? 'Connection to the server lost.'}</span>{' '}
          {seconds > 0 ? `Reconnecting in ${seconds}s` : 'Reconnecting…'}
          {connection.attempt > 1 ? ` (attempt ${connection.attempt})` : ''}. Work already shown stays here; missed updates load when
          it is back.
        </p>
        {/* Rate limited: trying before the server's Retry-After only gets refused again. */}
        {!connection.reason && (
          <Button size="sm" variant="ghost" icon={RefreshCw} onClick={onRetry} className="text-amber-900 dark:text-amber-200">
            Retry now
          </Button>
        )}
      </div>
    );
  }
  if (connection.status === 'refused') {
    // Final: the server will not take this page's socket, so there is nothing to retry.
    return (
      <div
        role="alert"
        data-testid="connection-banner"
        data-state="refused"
        className="flex items-center gap-3 border-b border-red-200 bg-red-50 px-4 py-2 text-sm text-red-900 dark:border-red-500/20 dark:bg-red-500/10 dark:text-red-200"
      >
        <ShieldAlert aria-hidden className="size-4 shrink-0" />
        <p className="min-w-0 flex-1">
          <span className="font-medium">No live updates.</span> {connection.reason}
        </p>
      </div>
    );
  }
  if (connection.status === 'open' && connection.reconnectedAt !== null && now - connection.reconnectedAt < SHOW_RECONNECTED_MS) {
    return (
      <div
        role="status"
        data-testid="connection-banner"
        data-state="reconnected"
        className="flex items-center gap-2 border-b border-emerald-200 bg-emerald-50 px-4 py-2 text-sm text-emerald-900 dark:border-emerald-500/20 dark:bg-emerald-500/10 dark:text-emerald-200"
      >
        <CircleCheck aria-hidden className="size-4" />
        Reconnected, and caught up on what was missed.
      </div>
    );
  }
  return null;
}
