import { Check, Copy, Link2, Plus, Share2 } from 'lucide-react';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';

import { shareApi, type ShareApi, type ShareLink } from '../api/shares';
import { fullTime, relativeTime } from '../lib/format';
import { Dialog } from './auth/Dialog';
import { ActionMessage, Button, ConfirmRevoke, Spinner } from './ui';

type SharesClient = Pick<ShareApi, 'list' | 'create' | 'revoke'>;

export const SHARE_EXPIRY_CHOICES: { label: string; days: number }[] = [
  { label: '1 day', days: 1 },
  { label: '7 days', days: 7 },
  { label: '30 days', days: 30 },
  { label: '90 days', days: 90 },
];

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The session header's "Share" button and its dialog. */
export function ShareButton({ sessionId, client = shareApi }: { sessionId: string; client?: SharesClient }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button size="sm" variant="ghost" icon={Share2} onClick={() => setOpen(true)} aria-haspopup="dialog" title="Share a read-only link to this pitch" data-testid="share-button">
        <span className="max-sm:sr-only">Share</span>
      </Button>
      {open && <ShareDialog sessionId={sessionId} client={client} onClose={() => setOpen(false)} />}
    </>
  );
}

/** Read-only links to the session's story and pitch, for people without an account: make one
 * (it expires), copy it, see the live ones and revoke them. */
export function ShareDialog({ sessionId, client = shareApi, onClose }: { sessionId: string; client?: SharesClient; onClose: () => void }) {
  const [links, setLinks] = useState<ShareLink[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [created, setCreated] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setLinks(await client.list(sessionId));
      setLoadError(null);
    } catch (err) {
      setLoadError(errorText(err));
    }
  }, [client, sessionId]);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <Dialog
      title="Share this pitch"
      description="Anyone with the link can read the story and download the pitch document, without an account. They cannot change anything or see your other sessions."
      onClose={onClose}
      testId="share-dialog"
      className="max-w-lg"
    >
      <div className="space-y-5">
        <CreateLinkForm
          onCreate={async (days) => {
            const link = await client.create(sessionId, days);
            setCreated(link.id);
            setLinks((list) => [link, ...(list ?? []).filter((l) => l.id !== link.id)]);
          }}
        />
        <section aria-label="Live links">
          <h3 className="mb-2 text-xs font-semibold tracking-wide text-zinc-500 uppercase dark:text-zinc-400">Live links</h3>
          {loadError && <ActionMessage tone="error" testId="share-load-error">{loadError}</ActionMessage>}
          {!links && !loadError && (
            <p className="flex items-center gap-2 text-sm text-zinc-500">
              <Spinner /> Loading links…
            </p>
          )}
          {links && links.length === 0 && (
            <p className="rounded-xl border border-dashed border-zinc-200 px-3.5 py-4 text-center text-sm text-zinc-500 dark:border-zinc-800" data-testid="share-empty">
              No live links. Make one above; nobody can open this session without one.
            </p>
          )}
          {links && links.length > 0 && (
            <ul className="divide-y divide-zinc-100 rounded-xl border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800" data-testid="share-list">
              {links.map((link) => (
                <ShareRow
                  key={link.id}
                  link={link}
                  fresh={link.id === created}
                  onRevoke={async () => {
                    await client.revoke(sessionId, link.id);
                    setLinks((list) => list?.filter((l) => l.id !== link.id) ?? null);
                  }}
                />
              ))}
            </ul>
          )}
        </section>
      </div>
    </Dialog>
  );
}

function CreateLinkForm({ onCreate }: { onCreate: (days: number) => Promise<void> }) {
  const [days, setDays] = useState(7);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onCreate(days);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="space-y-3" data-testid="share-form">
      <div className="flex flex-wrap items-end gap-3">
        <div>
          <label htmlFor="share-expiry" className="mb-1 block text-sm font-medium text-zinc-800 dark:text-zinc-200">
            Link expires after
          </label>
          <select
            id="share-expiry"
            value={String(days)}
            onChange={(e) => setDays(Number(e.target.value))}
            data-testid="share-expiry"
            className="block h-9 rounded-lg border border-zinc-300 bg-white px-2.5 text-sm text-zinc-900 shadow-xs focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/20 focus:outline-none dark:border-zinc-700 dark:bg-zinc-950 dark:text-zinc-100"
          >
            {SHARE_EXPIRY_CHOICES.map((c) => (
              <option key={c.days} value={String(c.days)}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
        <Button type="submit" variant="primary" icon={busy ? undefined : Plus} disabled={busy} data-testid="share-create">
          {busy && <Spinner />}
          Create link
        </Button>
      </div>
      {error && (
        <ActionMessage tone="error" testId="share-error">
          {error}
        </ActionMessage>
      )}
    </form>
  );
}

/** Copies `text`; where the browser will not (plain http, a refusal), selects it in `input` for the person to copy. */
async function copyText(text: string, input: HTMLInputElement | null): Promise<boolean> {
  try {
    if (!navigator.clipboard) throw new Error('no clipboard');
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    input?.focus();
    input?.select();
    return false;
  }
}

function ShareRow({ link, fresh, onRevoke }: { link: ShareLink; fresh: boolean; onRevoke: () => Promise<void> }) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const copy = async () => setCopied((await copyText(link.url, input.current)) ? 'yes' : 'no');
  const revoke = async () => {
    setBusy(true);
    setError(null);
    try {
      await onRevoke();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <li className="space-y-2 px-3.5 py-3" data-testid="share-item" data-share-id={link.id} data-fresh={fresh ? 'true' : undefined}>
      <div className="flex items-center gap-2">
        <Link2 aria-hidden className="size-4 shrink-0 text-zinc-400" />
        <input
          ref={input}
          readOnly
          value={link.url}
          aria-label="Share link"
          onFocus={(e) => e.currentTarget.select()}
          data-testid="share-url"
          className="h-8 min-w-0 flex-1 rounded-lg border border-zinc-200 bg-zinc-50 px-2 font-mono text-xs text-zinc-800 focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/20 focus:outline-none dark:border-zinc-700 dark:bg-zinc-950 dark:text-zinc-200"
        />
        <Button size="sm" icon={copied === 'yes' ? Check : Copy} onClick={() => void copy()} data-testid="share-copy" data-autofocus={fresh ? true : undefined}>
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </Button>
      </div>
      <div className="flex flex-wrap items-center gap-2 pl-6">
        <p className="min-w-0 flex-1 text-xs text-zinc-500 dark:text-zinc-400" data-testid="share-expires">
          {fresh && <span className="font-medium text-emerald-700 dark:text-emerald-400">New · </span>}
          <span title={fullTime(link.expires_at)}>Expires {fullTime(link.expires_at)}</span>
          {' · '}
          <span title={fullTime(link.created_at)}>made {relativeTime(link.created_at)}</span>
        </p>
        <ConfirmRevoke onRevoke={() => void revoke()} busy={busy} testId="share-revoke" />
      </div>
      {copied === 'no' && (
        <p className="pl-6 text-xs text-zinc-600 dark:text-zinc-400" data-testid="share-copy-fallback">
          The browser would not copy it: the link is selected, press Ctrl+C (⌘C on a Mac).
        </p>
      )}
      {error && <p className="pl-6 text-xs text-rose-600 dark:text-rose-400">{error}</p>}
    </li>
  );
}
