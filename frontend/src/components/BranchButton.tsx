import { GitBranch } from 'lucide-react';

import type { BranchIn, SessionOut } from '../api/client';
import { useAction } from '../hooks/useAction';
import type { Outcome } from '../stream/useSession';
import { GuardedButton, Spinner } from './ui';

/**
 * "Branch from here": a new session that starts from this round or draft; the caller opens it.
 * A refusal (a run in progress, too big to copy, a point that does not exist) shows under the button.
 */
export function BranchButton({
  point,
  onBranch,
  disabledReason,
  label = 'Branch from here',
  title,
  align = 'right',
  testId = 'branch-button',
}: {
  point: BranchIn;
  onBranch: (point: BranchIn) => Promise<Outcome<SessionOut>>;
  disabledReason?: string | null;
  label?: string;
  /** What the branch starts from, for screen readers and the tooltip ("round 1"). */
  title?: string;
  align?: 'left' | 'right';
  testId?: string;
}) {
  const { busy, error, run } = useAction(onBranch);
  const click = () => run(point);
  return (
    <span className="inline-flex flex-col items-end gap-1">
      <GuardedButton
        size="sm"
        variant="ghost"
        icon={busy ? undefined : GitBranch}
        onClick={() => void click()}
        disabledReason={disabledReason ?? (busy ? 'Making the branch…' : null)}
        align={align}
        aria-label={title ? `Branch from ${title}` : label}
        title={disabledReason ? undefined : `A new session that starts from ${title ?? 'here'}; this one stays as it is`}
        data-testid={testId}
      >
        {busy && <Spinner className="size-3.5" />}
        {label}
      </GuardedButton>
      {error && (
        <span role="alert" className="max-w-64 text-right text-xs text-rose-600 dark:text-rose-400" data-testid="branch-error">
          {error}
        </span>
      )}
    </span>
  );
}
