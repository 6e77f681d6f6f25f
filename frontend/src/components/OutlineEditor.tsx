import { Eye, PenLine, Save, X } from 'lucide-react';
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';

import type { StateEditOut } from '../api/client';
import { changedSections, outlineProblem } from '../lib/outline';
import { cx } from '../lib/format';
import type { Outcome } from '../stream/useSession';
import { Markdown } from './Markdown';
import { ActionMessage, Button, GuardedButton, Spinner } from './ui';

export type EditChanges = { PLOT_OUTLINE?: string; direction?: string };

interface Props {
  /** The outline and direction as they are now, and the state version they are from. */
  outline: string;
  direction: string;
  version: number;
  /** Why saving has to wait (a run in progress), or null. */
  disabledReason: string | null;
  onSave: (changes: EditChanges, expectedVersion: number) => Promise<Outcome<StateEditOut>>;
  /** The session's current state, fetched again (after a stale edit). */
  onReload: () => Promise<{ version: number; state: Record<string, unknown> } | null>;
  onSaved: (result: StateEditOut) => void;
  onCancel: () => void;
}

interface Base {
  version: number;
  outline: string;
  direction: string;
}

/**
 * The producer's edit by hand: one Markdown textarea with the whole outline (title, logline, acts)
 * and a preview, plus the direction. Saving sends the edit with the state version it was made on; if
 * the pitch moved on meanwhile, the editor says so and offers to reload the current version and redo.
 */
export function OutlineEditor({ outline, direction, version, disabledReason, onSave, onReload, onSaved, onCancel }: Props) {
  const id = useId();
  const [base, setBase] = useState<Base>({ version, outline, direction });
  const [text, setText] = useState(outline);
  const [dir, setDir] = useState(direction);
  const [tab, setTab] = useState<'write' | 'preview'>('write');
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [stale, setStale] = useState<{ current: number | null } | null>(null);
  const [reloading, setReloading] = useState(false);
  /** What the person had written before reloading a newer version, to redo their edit from. */
  const [previous, setPrevious] = useState<string | null>(null);

  // A refusal shows next to Save, which may be below the fold of a long outline.
  const said = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (stale || error) said.current?.scrollIntoView?.({ block: 'nearest', behavior: 'smooth' });
  }, [stale, error]);

  const sections = useMemo(() => changedSections(base.outline, text), [base.outline, text]);
  const outlineChanged = text.trim() !== base.outline.trim();
  const directionChanged = dir.trim() !== base.direction.trim();
  const problem = outlineChanged ? outlineProblem(text) : null;
  const nothing = !outlineChanged && !directionChanged;
  const reason = disabledReason ?? (saving ? 'Saving…' : stale ? 'Reload the current version first.' : nothing ? 'Change the outline or the direction first.' : problem);

  const save = async () => {
    if (reason) return;
    const changes: EditChanges = {};
    if (outlineChanged) changes.PLOT_OUTLINE = text.trim();
    if (directionChanged) changes.direction = dir.trim();
    setSaving(true);
    setError(null);
    const outcome = await onSave(changes, base.version);
    setSaving(false);
    if (outcome.ok) {
      onSaved(outcome.value);
      return;
    }
    if (outcome.code === 'stale_version') {
      const current = outcome.body?.current_version;
      setStale({ current: typeof current === 'number' ? current : null });
    } else {
      setError(outcome.message);
    }
  };

  const reload = async () => {
    setReloading(true);
    const fresh = await onReload();
    setReloading(false);
    if (!fresh) {
      setError('Could not load the current version; try again.');
      return;
    }
    const freshOutline = typeof fresh.state.PLOT_OUTLINE === 'string' ? fresh.state.PLOT_OUTLINE : '';
    const freshDirection = typeof fresh.state.direction === 'string' ? fresh.state.direction : '';
    setPrevious(text);
    setBase({ version: fresh.version, outline: freshOutline, direction: freshDirection });
    setText(freshOutline);
    setDir(freshDirection);
    setStale(null);
    setError(null);
    setTab('write');
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement | HTMLInputElement>) => {
    if (event.key === 'Enter' && (event.metaKey || event.ctrlKey)) {
      event.preventDefault();
      void save();
    }
  };

  const tabButton = (value: 'write' | 'preview', label: string, Icon: typeof Eye) => (
    <button
      type="button"
      role="tab"
      aria-selected={tab === value}
      aria-controls={`${id}-${value}`}
      onClick={() => setTab(value)}
      data-testid={`editor-tab-${value}`}
      className={cx(
        'inline-flex items-center gap-1.5 rounded-md px-2.5 py-1 text-xs font-medium',
        tab === value ? 'bg-white text-zinc-900 shadow-xs ring-1 ring-zinc-200 dark:bg-zinc-800 dark:text-zinc-100 dark:ring-zinc-700' : 'text-zinc-500 hover:text-zinc-900 dark:hover:text-zinc-100',
      )}
    >
      <Icon aria-hidden className="size-3.5" />
      {label}
    </button>
  );

  return (
    <div className="rounded-xl border border-indigo-200 bg-white shadow-sm dark:border-indigo-500/30 dark:bg-zinc-900" data-testid="outline-editor" data-base-version={base.version}>
      <div className="flex flex-wrap items-center gap-2 border-b border-zinc-100 px-3 py-2 dark:border-zinc-800">
        <div className="flex gap-1 rounded-lg bg-zinc-100 p-0.5 dark:bg-zinc-950" role="tablist" aria-label="Editor">
          {tabButton('write', 'Write', PenLine)}
          {tabButton('preview', 'Preview', Eye)}
        </div>
        <span className="ml-auto text-xs text-zinc-500" data-testid="editor-base">
          Editing version {base.version}
        </span>
      </div>

      <div className="space-y-3 p-3">
        {tab === 'write' ? (
          <div id={`${id}-write`} role="tabpanel">
            <label htmlFor={`${id}-outline`} className="sr-only">
              Plot outline (Markdown)
            </label>
            <textarea
              id={`${id}-outline`}
              value={text}
              onChange={(e) => setText(e.target.value)}
              onKeyDown={onKeyDown}
              rows={16}
              spellCheck
              data-testid="outline-textarea"
              className="block w-full resize-y rounded-lg border border-zinc-200 bg-zinc-50/50 px-3 py-2 font-mono text-[0.8125rem] leading-relaxed outline-none focus:border-indigo-400 focus:bg-white dark:border-zinc-700 dark:bg-zinc-950 dark:focus:border-indigo-500"
            />
            <p className="mt-1 text-xs text-zinc-500">
              Markdown. Keep the <code className="font-mono">**Title:**</code>, <code className="font-mono">**Logline:**</code> and{' '}
              <code className="font-mono">**Act I: Name.**</code> lines; the sections you change become yours, and the screenwriter keeps them.
            </p>
          </div>
        ) : (
          <div id={`${id}-preview`} role="tabpanel" className="min-h-40 rounded-lg border border-zinc-200 px-3 py-2 dark:border-zinc-800" data-testid="outline-preview">
            <Markdown text={text} />
          </div>
        )}

        <div>
          <label htmlFor={`${id}-direction`} className="mb-1 block text-xs font-medium text-zinc-600 dark:text-zinc-400">
            Direction
          </label>
          <input
            id={`${id}-direction`}
            value={dir}
            onChange={(e) => setDir(e.target.value)}
            onKeyDown={onKeyDown}
            placeholder="e.g. darker, for teenagers"
            data-testid="direction-input"
            className="block w-full rounded-lg border border-zinc-200 bg-zinc-50/50 px-3 py-1.5 text-sm outline-none focus:border-indigo-400 focus:bg-white dark:border-zinc-700 dark:bg-zinc-950 dark:focus:border-indigo-500"
          />
        </div>

        {(sections.length > 0 || directionChanged) && !stale && (
          <p className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="editor-changes">
            You change: <span className="font-medium text-zinc-900 dark:text-zinc-100">{[...sections, ...(directionChanged ? ['direction'] : [])].join(', ')}</span>
          </p>
        )}
        <div ref={said} className="space-y-3 empty:hidden">
        {problem && !stale && (
          <ActionMessage tone="error" testId="editor-problem">
            <Markdown text={problem} className="md-sm" />
          </ActionMessage>
        )}
        {stale && (
          <ActionMessage tone="error" testId="editor-stale">
            <p className="font-medium">The pitch changed while you were editing.</p>
            <p className="mt-0.5">
              You edited version {base.version}; the current version is <strong data-testid="stale-current">{stale.current ?? 'newer'}</strong>. Reload it and make your
              edit again: your text stays below to copy from.
            </p>
            <Button size="sm" className="mt-2" onClick={() => void reload()} disabled={reloading} data-testid="editor-reload">
              {reloading && <Spinner className="size-3.5" />}
              Reload version {stale.current ?? 'current'}
            </Button>
          </ActionMessage>
        )}
        {error && (
          <ActionMessage tone="error" testId="editor-error" onDismiss={() => setError(null)}>
            {error}
          </ActionMessage>
        )}
        {(stale || previous !== null) && (
          <details className="rounded-lg border border-dashed border-zinc-300 text-sm dark:border-zinc-700" data-testid="editor-previous" open={Boolean(stale)}>
            <summary className="cursor-pointer px-3 py-1.5 text-xs font-medium text-zinc-600 dark:text-zinc-400">Your edit, to redo</summary>
            <pre className="max-h-48 overflow-auto px-3 pb-2 font-mono text-xs whitespace-pre-wrap text-zinc-700 dark:text-zinc-300">{stale ? text : previous}</pre>
          </details>
        )}

        </div>

        <div className="flex flex-wrap items-center justify-end gap-2">
          <Button variant="ghost" size="sm" icon={X} onClick={onCancel} data-testid="editor-cancel">
            Cancel
          </Button>
          <GuardedButton variant="primary" size="sm" icon={saving ? undefined : Save} onClick={() => void save()} disabledReason={reason} data-testid="editor-save">
            {saving && <Spinner className="size-3.5" />}
            Save edit
          </GuardedButton>
        </div>
      </div>
    </div>
  );
}
