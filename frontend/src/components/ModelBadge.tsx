import { Cpu, ExternalLink } from 'lucide-react';

import type { InfoOut } from '../api/client';
import { cx } from '../lib/format';
import { Tooltip } from './ui';

export const REAL_MODEL_DOCS = 'https://github.com/agente-films/agente-films#using-a-real-model';

/** Which model the agents run on; the offline demo model gets a badge that says how to use a real one. */
export function ModelBadge({ info, fallbackModel, className }: { info: InfoOut | null; fallbackModel?: string | null; className?: string }) {
  const model = (info?.models.default as string | undefined) ?? fallbackModel ?? null;
  if (!model) return null;
  const offline = info ? info.offline : model === 'offline' || model.startsWith('offline/');
  const perAgent = (info?.models.per_agent ?? {}) as Record<string, string>;
  const overrides = Object.entries(perAgent).filter(([, m]) => m !== model);

  if (offline) {
    return (
      <Tooltip
        className={className}
        content={
          <>
            <strong className="font-semibold text-zinc-900 dark:text-zinc-100">No real LLM is connected.</strong> The built-in offline
            demo model plays every agent with canned, deterministic text, so you can try the whole flow without an API key. To use a real
            model, set <code className="rounded bg-zinc-100 px-1 font-mono dark:bg-zinc-800">LLM_MODEL</code> (for example{' '}
            <code className="rounded bg-zinc-100 px-1 font-mono dark:bg-zinc-800">openai/gpt-4o-mini</code>) and the provider&apos;s API key in
            the server&apos;s environment or <code className="rounded bg-zinc-100 px-1 font-mono dark:bg-zinc-800">.env</code>, then restart it.
          </>
        }
      >
        <a
          href={REAL_MODEL_DOCS}
          target="_blank"
          rel="noopener noreferrer"
          data-testid="model-badge"
          data-offline="true"
          className="inline-flex items-center gap-1.5 rounded-full bg-amber-50 px-2.5 py-1 text-xs font-medium text-amber-800 ring-1 ring-amber-600/25 ring-inset hover:bg-amber-100 dark:bg-amber-500/10 dark:text-amber-300 dark:ring-amber-400/30 dark:hover:bg-amber-500/20"
        >
          <span className="size-1.5 rounded-full bg-amber-500" />
          <span className="max-sm:hidden">Offline demo model</span>
          <span className="sm:hidden">Offline</span>
          <ExternalLink aria-hidden className="size-3 opacity-70" />
        </a>
      </Tooltip>
    );
  }
  return (
    <Tooltip
      className={className}
      content={
        <>
          The agents run on <code className="font-mono">{model}</code>
          {info?.models.via_proxy ? ' through the LiteLLM proxy' : ''} (set by <code className="font-mono">LLM_MODEL</code>).
          {overrides.length > 0 && (
            <span className="mt-1 block">
              Per agent: {overrides.map(([agent, m]) => `${agent}: ${m}`).join(', ')}
            </span>
          )}
        </>
      }
    >
      <span
        tabIndex={0}
        data-testid="model-badge"
        data-offline="false"
        className={cx(
          'inline-flex max-w-56 items-center gap-1.5 truncate rounded-full bg-zinc-100 px-2.5 py-1 text-xs font-medium text-zinc-700 ring-1 ring-zinc-500/15 ring-inset dark:bg-zinc-800 dark:text-zinc-300',
        )}
      >
        <Cpu aria-hidden className="size-3.5" />
        <span className="truncate">{model}</span>
      </span>
    </Tooltip>
  );
}
