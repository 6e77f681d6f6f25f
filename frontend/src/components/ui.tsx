/** Small shared pieces: buttons, pills, avatars, spinners, tooltips, empty states. */
import { CircleCheck, CircleDashed, CircleStop, CircleX, LoaderCircle, X, type LucideIcon } from 'lucide-react';
import { useId, useState, type ButtonHTMLAttributes, type ReactNode } from 'react';

import { agentMeta } from '../stream/agents';
import { cx } from '../lib/format';

type Variant = 'primary' | 'secondary' | 'ghost' | 'danger';

const VARIANTS: Record<Variant, string> = {
  primary: 'bg-zinc-900 text-white hover:bg-zinc-700 dark:bg-white dark:text-zinc-900 dark:hover:bg-zinc-200 shadow-sm',
  secondary:
    'border border-zinc-200 bg-white text-zinc-800 hover:bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-100 dark:hover:bg-zinc-800 shadow-xs',
  ghost: 'text-zinc-600 hover:bg-zinc-100 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-zinc-100',
  danger: 'bg-rose-600 text-white hover:bg-rose-500 shadow-sm',
};

export function Button({
  variant = 'secondary',
  size = 'md',
  icon: Icon,
  className,
  children,
  ...props
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant; size?: 'sm' | 'md'; icon?: LucideIcon }) {
  return (
    <button
      type="button"
      className={cx(
        'inline-flex shrink-0 items-center justify-center gap-1.5 rounded-lg font-medium transition-colors disabled:cursor-not-allowed disabled:opacity-50',
        size === 'sm' ? 'h-7 px-2.5 text-xs' : 'h-9 px-3.5 text-sm',
        VARIANTS[variant],
        className,
      )}
      {...props}
    >
      {Icon && <Icon aria-hidden className={size === 'sm' ? 'size-3.5' : 'size-4'} />}
      {children}
    </button>
  );
}

type ButtonProps = Parameters<typeof Button>[0];

/** A button that, when it cannot be pressed now, says why: a tooltip on hover and on keyboard focus
 * (its wrapper takes the focus a disabled button cannot), and the button's description for screen readers. */
export function GuardedButton({
  disabledReason,
  align = 'right',
  side = 'bottom',
  className,
  ...props
}: ButtonProps & { disabledReason?: string | null; align?: 'left' | 'right'; side?: 'top' | 'bottom' }) {
  const id = useId();
  if (!disabledReason) return <Button className={className} {...props} />;
  return (
    <span className="group/tip relative inline-flex rounded-lg outline-none focus-visible:ring-2 focus-visible:ring-indigo-500" tabIndex={0} data-testid="disabled-reason-wrapper">
      <Button className={className} {...props} disabled aria-describedby={id} data-disabled-reason={disabledReason} />
      <span
        role="tooltip"
        id={id}
        className={cx(
          'pointer-events-none invisible absolute z-50 w-max max-w-64 rounded-lg border border-zinc-200 bg-white px-2.5 py-1.5 text-left text-xs leading-snug font-normal text-zinc-700 opacity-0 shadow-lg transition-opacity group-focus-within/tip:visible group-focus-within/tip:opacity-100 group-hover/tip:visible group-hover/tip:opacity-100 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-300',
          align === 'right' ? 'right-0' : 'left-0',
          side === 'bottom' ? 'top-full mt-1.5' : 'bottom-full mb-1.5',
        )}
      >
        {disabledReason}
      </span>
    </span>
  );
}

/** Why the producer's actions wait while the team works. */
export const RUN_IN_PROGRESS_REASON = 'The team is at work on this pitch. Wait for the run to finish, or stop it.';

/** A short message under an action: how it went, or why it was refused. */
export function ActionMessage({ tone, children, onDismiss, testId = 'action-message' }: { tone: 'info' | 'error' | 'success'; children: ReactNode; onDismiss?: () => void; testId?: string }) {
  return (
    <div
      role={tone === 'error' ? 'alert' : 'status'}
      data-testid={testId}
      data-tone={tone}
      className={cx(
        'flex items-start gap-2 rounded-lg border px-3 py-2 text-sm',
        tone === 'error' && 'border-rose-200 bg-rose-50 text-rose-900 dark:border-rose-500/20 dark:bg-rose-500/10 dark:text-rose-200',
        tone === 'info' && 'border-zinc-200 bg-zinc-50 text-zinc-700 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-300',
        tone === 'success' && 'border-emerald-200 bg-emerald-50 text-emerald-900 dark:border-emerald-500/20 dark:bg-emerald-500/10 dark:text-emerald-200',
      )}
    >
      <div className="min-w-0 flex-1">{children}</div>
      {onDismiss && (
        <button type="button" aria-label="Dismiss" onClick={onDismiss} className="shrink-0 opacity-60 hover:opacity-100">
          <X aria-hidden className="size-4" />
        </button>
      )}
    </div>
  );
}

/** A Revoke button that asks once more (Keep / Revoke) before it acts: for share links and API tokens. */
export function ConfirmRevoke({
  onRevoke,
  busy,
  testId,
  label,
  variant = 'ghost',
}: {
  onRevoke: () => void;
  busy: boolean;
  /** data-testid of the first button; the confirming one gets `${testId}-confirm`. */
  testId: string;
  /** An accessible name for the first button, when "Revoke" alone is ambiguous in a list. */
  label?: string;
  variant?: 'ghost' | 'secondary';
}) {
  const [confirming, setConfirming] = useState(false);
  if (!confirming) {
    return (
      <Button size="sm" variant={variant} onClick={() => setConfirming(true)} aria-label={label} data-testid={testId}>
        Revoke
      </Button>
    );
  }
  return (
    <span className="flex shrink-0 items-center gap-1.5">
      <Button size="sm" variant="ghost" onClick={() => setConfirming(false)} disabled={busy}>
        Keep
      </Button>
      <Button size="sm" variant="danger" onClick={onRevoke} disabled={busy} data-testid={`${testId}-confirm`}>
        {busy && <Spinner className="size-3.5" />}
        Revoke
      </Button>
    </span>
  );
}

export function IconButton({
  icon: Icon,
  label,
  className,
  ...props
}: ButtonHTMLAttributes<HTMLButtonElement> & { icon: LucideIcon; label: string }) {
  return (
    <button
      type="button"
      aria-label={label}
      title={label}
      className={cx(
        'inline-flex size-8 shrink-0 items-center justify-center rounded-lg text-zinc-500 transition-colors hover:bg-zinc-100 hover:text-zinc-900 disabled:opacity-40 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-zinc-100',
        className,
      )}
      {...props}
    >
      <Icon aria-hidden className="size-4" />
    </button>
  );
}

export function Spinner({ className }: { className?: string }) {
  return <LoaderCircle aria-hidden className={cx('size-4 animate-spin', className)} />;
}

const STATUS: Record<string, { label: string; className: string }> = {
  running: { label: 'Running', className: 'bg-indigo-50 text-indigo-700 ring-indigo-600/20 dark:bg-indigo-500/10 dark:text-indigo-300 dark:ring-indigo-400/30' },
  completed: { label: 'Done', className: 'bg-emerald-50 text-emerald-700 ring-emerald-600/20 dark:bg-emerald-500/10 dark:text-emerald-300 dark:ring-emerald-400/30' },
  failed: { label: 'Failed', className: 'bg-rose-50 text-rose-700 ring-rose-600/20 dark:bg-rose-500/10 dark:text-rose-300 dark:ring-rose-400/30' },
  branched: { label: 'Branch point', className: 'bg-violet-50 text-violet-700 ring-violet-600/20 dark:bg-violet-500/10 dark:text-violet-300 dark:ring-violet-400/30' },
  cancelled: { label: 'Stopped', className: 'bg-zinc-100 text-zinc-700 ring-zinc-500/20 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-600/40' },
  interrupted: { label: 'Interrupted', className: 'bg-amber-50 text-amber-800 ring-amber-600/20 dark:bg-amber-500/10 dark:text-amber-300 dark:ring-amber-400/30' },
  idle: { label: 'New', className: 'bg-zinc-50 text-zinc-600 ring-zinc-500/15 dark:bg-zinc-900 dark:text-zinc-400 dark:ring-zinc-700' },
};

export function StatusPill({ status, className }: { status: string; className?: string }) {
  const s = STATUS[status] ?? { label: status, className: STATUS.idle?.className ?? '' };
  return (
    <span
      data-status={status}
      className={cx('inline-flex items-center gap-1 rounded-full px-1.5 py-0.5 text-[0.6875rem] leading-none font-medium ring-1 ring-inset', s.className, className)}
    >
      {status === 'running' && <span className="size-1.5 animate-pulse rounded-full bg-current" />}
      {s.label}
    </span>
  );
}

export function AgentAvatar({ agent, active = false, size = 'md' }: { agent: string; active?: boolean; size?: 'sm' | 'md' }) {
  const meta = agentMeta(agent);
  const initials = meta.label
    .split(/[\s']+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]?.toUpperCase())
    .join('');
  return (
    <span
      aria-hidden
      className={cx(
        'relative inline-flex shrink-0 items-center justify-center rounded-full font-semibold text-white',
        size === 'sm' ? 'size-5 text-[0.5625rem]' : 'size-7 text-[0.6875rem]',
        meta.accent,
      )}
    >
      {initials}
      {active && <span className="absolute -inset-0.5 animate-ping rounded-full ring-2 ring-current opacity-40" style={{ color: 'inherit' }} />}
    </span>
  );
}

export function PhaseIcon({ status, className }: { status: 'waiting' | 'running' | 'done' | 'skipped' | 'stopped' | 'failed'; className?: string }) {
  if (status === 'running') return <Spinner className={cx('text-indigo-500', className)} />;
  if (status === 'done') return <CircleCheck aria-hidden className={cx('size-4 text-emerald-500', className)} />;
  if (status === 'failed') return <CircleX aria-hidden className={cx('size-4 text-rose-500', className)} />;
  if (status === 'stopped') return <CircleStop aria-hidden className={cx('size-4 text-amber-500', className)} />;
  return <CircleDashed aria-hidden className={cx('size-4 text-zinc-300 dark:text-zinc-600', className)} />;
}

/** A hover/focus tooltip that screen readers get as the trigger's description. */
export function Tooltip({ content, children, className }: { content: ReactNode; children: ReactNode; className?: string }) {
  const id = useId();
  return (
    <span className={cx('group/tip relative inline-flex', className)} aria-describedby={id}>
      {children}
      <span
        role="tooltip"
        id={id}
        className="pointer-events-none invisible absolute top-full right-0 z-50 mt-2 w-72 rounded-lg border border-zinc-200 bg-white p-3 text-left text-xs leading-relaxed font-normal text-zinc-700 opacity-0 shadow-lg transition-opacity group-focus-within/tip:visible group-focus-within/tip:opacity-100 group-hover/tip:visible group-hover/tip:opacity-100 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-300"
      >
        {content}
      </span>
    </span>
  );
}

export function EmptyState({ icon: Icon, title, children, className }: { icon: LucideIcon; title: string; children?: ReactNode; className?: string }) {
  return (
    <div className={cx('flex flex-col items-center justify-center px-6 py-12 text-center', className)}>
      <div className="mb-4 flex size-11 items-center justify-center rounded-xl border border-zinc-200 bg-white shadow-xs dark:border-zinc-800 dark:bg-zinc-900">
        <Icon aria-hidden className="size-5 text-zinc-500" />
      </div>
      <h3 className="text-sm font-semibold text-zinc-900 dark:text-zinc-100">{title}</h3>
      {children && <div className="mt-1.5 max-w-sm text-sm text-zinc-500 dark:text-zinc-400">{children}</div>}
    </div>
  );
}

export function SectionTitle({ children, right }: { children: ReactNode; right?: ReactNode }) {
  return (
    <div className="mb-2 flex items-center justify-between gap-2">
      <h3 className="text-xs font-semibold tracking-wide text-zinc-500 uppercase dark:text-zinc-400">{children}</h3>
      {right}
    </div>
  );
}

/** The critic's words on a producer's note, wherever the note is shown. */
export function CriticVerdict({ verdict, className, testId = 'note-verdict' }: { verdict: string; className?: string; testId?: string }) {
  return (
    <p data-testid={testId} className={cx('text-xs text-zinc-600 dark:text-zinc-400', className)}>
      <span className="font-medium">Critic:</span> {verdict}
    </p>
  );
}
