import { ArrowLeftRight, Columns2, Rows2 } from 'lucide-react';
import { useEffect, useMemo, useState } from 'react';

import { api, type Api, type CompareOut } from '../api/client';
import { THIS_SESSION, type VersionOption } from '../hooks/useVersions';
import { cx } from '../lib/format';
import { DraftDiff, type DiffMode } from './DraftDiff';
import { IconButton, Spinner } from './ui';

interface Props {
  sessionId: string;
  options: VersionOption[];
  /** The family's versions are still loading / could not all be loaded. */
  loading?: boolean;
  error?: string | null;
  client?: Pick<Api, 'compare'>;
}

type Loaded = { key: string; result?: CompareOut; error?: string };

function groups(options: VersionOption[]): [string, VersionOption[]][] {
  const byGroup = new Map<string, VersionOption[]>();
  for (const option of options) {
    const key = `${option.group} — ${option.kind === 'draft' ? 'drafts' : 'pitch document'}`;
    byGroup.set(key, [...(byGroup.get(key) ?? []), option]);
  }
  return [...byGroup.entries()];
}

/** An option as the closed picker shows it: whose version it is, when not this session's. */
function optionText(option: VersionOption): string {
  if (option.group === THIS_SESSION) return option.label;
  const who = option.group.split(' · ')[0] ?? option.group;
  return `${who}: ${option.label}`;
}

/** The last two drafts of this session (or whatever two versions there are). */
function defaults(sessionId: string, options: VersionOption[]): [string, string] {
  const own = options.filter((o) => o.sessionId === sessionId && o.kind === 'draft');
  const pool = own.length >= 2 ? own : options;
  const b = pool[pool.length - 1]?.ref ?? '';
  const a = pool[pool.length - 2]?.ref ?? b;
  return [a, b];
}

/**
 * Compare any two versions, outline drafts or pitch documents, of this session, its parent or its
 * branches: side by side with a word diff (or inline), each downloadable. Versions this page has
 * are compared here; others come from the server's compare endpoint.
 */
export function VersionCompare({ sessionId, options, loading = false, error = null, client = api }: Props) {
  const [choice, setChoice] = useState<[string, string] | null>(null);
  const [mode, setMode] = useState<DiffMode>('side');
  const [fallbackA, fallbackB] = defaults(sessionId, options);
  const has = (ref: string | undefined) => Boolean(ref && options.some((o) => o.ref === ref));
  // Follow the newest drafts until a choice is made; a chosen version that went away falls back.
  const a = choice && has(choice[0]) ? choice[0] : fallbackA;
  const b = choice && has(choice[1]) ? choice[1] : fallbackB;
  const optA = options.find((o) => o.ref === a);
  const optB = options.find((o) => o.ref === b);
  const local = optA?.text != null && optB?.text != null;
  const key = `${a}|${b}`;
  const [loaded, setLoaded] = useState<Loaded | null>(null);

  useEffect(() => {
    if (local || !a || !b) return;
    let stopped = false;
    client
      .compare(sessionId, a, b)
      .then((result) => !stopped && setLoaded({ key, result }))
      .catch((err: unknown) => !stopped && setLoaded({ key, error: err instanceof Error ? err.message : String(err) }));
    return () => {
      stopped = true;
    };
  }, [client, sessionId, a, b, key, local]);

  const grouped = useMemo(() => groups(options), [options]);
  const remote = loaded?.key === key ? loaded : null;
  const from = (local ? optA?.text : remote?.result?.a.text) ?? undefined;
  const to = (local ? optB?.text : remote?.result?.b.text) ?? undefined;

  const picker = (value: string, index: 0 | 1, label: string) => (
    <label className="flex min-w-0 flex-1 flex-col gap-1 text-xs text-zinc-500">
      <span className="inline-flex items-center gap-1.5">
        <span className={cx('size-2 rounded-full', index === 0 ? 'bg-rose-400' : 'bg-emerald-500')} aria-hidden />
        {label}
      </span>
      <select
        value={value}
        onChange={(e) => setChoice(index === 0 ? [e.target.value, b] : [a, e.target.value])}
        data-testid={index === 0 ? 'compare-a' : 'compare-b'}
        className="w-full min-w-0 rounded-md border border-zinc-200 bg-white px-1.5 py-1 text-xs text-zinc-800 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-200"
      >
        {grouped.map(([group, list]) => (
          <optgroup key={group} label={group}>
            {list.map((o) => (
              <option key={o.ref} value={o.ref}>
                {optionText(o)}
              </option>
            ))}
          </optgroup>
        ))}
      </select>
    </label>
  );

  // Whose versions they are matters once the family's are among them.
  const family = options.some((o) => o.sessionId !== sessionId);
  const sideLabel = (option: VersionOption | undefined, fallback: string | undefined) =>
    option ? (
      <>
        <span className="text-zinc-500">{family ? `${option.group} · ` : ''}</span>
        {option.label}
      </>
    ) : (
      (fallback ?? '')
    );

  return (
    <div className="@container space-y-3" data-testid="version-compare">
      <div className="flex items-end gap-2">
        {picker(a, 0, 'From')}
        <IconButton icon={ArrowLeftRight} label="Swap the two versions" className="size-7" onClick={() => setChoice([b, a])} data-testid="compare-swap" />
        {picker(b, 1, 'To')}
      </div>
      <div className="flex flex-wrap items-center gap-2">
        <div className="inline-flex rounded-lg bg-zinc-100 p-0.5 text-xs dark:bg-zinc-800" role="group" aria-label="Layout">
          {(
            [
              ['side', 'Side by side', Columns2],
              ['inline', 'Inline', Rows2],
            ] as const
          ).map(([m, label, Icon]) => (
            <button
              key={m}
              type="button"
              onClick={() => setMode(m)}
              aria-pressed={mode === m}
              data-testid={`compare-mode-${m}`}
              className={cx('inline-flex items-center gap-1 rounded-md px-2 py-1 font-medium', mode === m ? 'bg-white shadow-xs dark:bg-zinc-950' : 'text-zinc-500')}
            >
              <Icon aria-hidden className="size-3.5" />
              {label}
            </button>
          ))}
        </div>
      </div>
      {loading && (
        <p className="flex items-center gap-2 text-xs text-zinc-500">
          <Spinner className="size-3.5" /> Loading the versions of the parent and branches…
        </p>
      )}
      {error && <p className="text-xs text-amber-700 dark:text-amber-300">{error}</p>}
      {from !== undefined && to !== undefined ? (
        <DraftDiff
          from={from}
          to={to}
          mode={mode}
          sides={[
            { label: sideLabel(optA, remote?.result?.a.label), downloadUrl: optA?.downloadUrl ?? remote?.result?.a.download_url },
            { label: sideLabel(optB, remote?.result?.b.label), downloadUrl: optB?.downloadUrl ?? remote?.result?.b.download_url },
          ]}
        />
      ) : remote?.error ? (
        <p role="alert" className="text-sm text-rose-600 dark:text-rose-400" data-testid="compare-error">
          Could not compare these versions: {remote.error}
        </p>
      ) : (
        <p className="flex items-center gap-2 text-sm text-zinc-500">
          <Spinner /> Loading both versions…
        </p>
      )}
    </div>
  );
}
