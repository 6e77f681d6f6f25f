import { Check, Copy, KeyRound, Plus } from 'lucide-react';
import { useCallback, useEffect, useState, type FormEvent } from 'react';

import type { ApiToken, AuthApi, NewApiToken } from '../../api/auth';
import { fullTime, relativeTime } from '../../lib/format';
import { ActionMessage, Button, ConfirmRevoke, EmptyState, Spinner } from '../ui';
import { Dialog, Field } from './Dialog';

const EXPIRY_CHOICES: { label: string; days: number | null }[] = [
  { label: '30 days', days: 30 },
  { label: '90 days', days: 90 },
  { label: '1 year', days: 365 },
  { label: 'Never (until revoked)', days: null },
];

type TokensClient = Pick<AuthApi, 'tokens' | 'createToken' | 'revokeToken'>;

/** Personal API tokens for scripts and the CLI: make one (its secret is shown this once), see the
 * others by name and prefix, revoke them. */
export function TokensDialog({ client, onClose }: { client: TokensClient; onClose: () => void }) {
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [created, setCreated] = useState<NewApiToken | null>(null);

  const load = useCallback(async () => {
    try {
      setTokens(await client.tokens());
      setLoadError(null);
    } catch (err) {
      setLoadError(err instanceof Error ? err.message : String(err));
    }
  }, [client]);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <Dialog
      title="API tokens"
      description="Let scripts and the command line work as you."
      onClose={onClose}
      testId="tokens-dialog"
      className="max-w-lg"
    >
      <div className="space-y-5">
        {created ? (
          <CreatedToken token={created} onDone={() => setCreated(null)} />
        ) : (
          <CreateTokenForm
            client={client}
            onCreated={(token) => {
              setCreated(token);
              void load();
            }}
          />
        )}
        <section aria-label="Your tokens">
          <h3 className="mb-2 text-xs font-semibold tracking-wide text-zinc-500 uppercase dark:text-zinc-400">Your tokens</h3>
          {loadError && <ActionMessage tone="error">{loadError}</ActionMessage>}
          {!tokens && !loadError && (
            <p className="flex items-center gap-2 text-sm text-zinc-500">
              <Spinner /> Loading tokens…
            </p>
          )}
          {tokens && tokens.length === 0 && (
            <EmptyState icon={KeyRound} title="No tokens yet" className="py-6">
              Make one above when a script needs to work as you.
            </EmptyState>
          )}
          {tokens && tokens.length > 0 && (
            <ul className="divide-y divide-zinc-100 rounded-xl border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800" data-testid="token-list">
              {tokens.map((token) => (
                <TokenRow
                  key={token.id}
                  token={token}
                  onRevoke={async () => {
                    await client.revokeToken(token.id);
                    setTokens((list) => list?.filter((t) => t.id !== token.id) ?? null);
                  }}
                />
              ))}
            </ul>
          )}
        </section>
        <p className="text-xs text-zinc-500 dark:text-zinc-400">
          A script sends its token in the header <code className="rounded bg-zinc-100 px-1 py-0.5 font-mono text-[0.95em] dark:bg-zinc-800">Authorization: Bearer afp_…</code>.
          Revoke a token you no longer use, or one that may have leaked.
        </p>
      </div>
    </Dialog>
  );
}

function CreateTokenForm({ client, onCreated }: { client: TokensClient; onCreated: (token: NewApiToken) => void }) {
  const [name, setName] = useState('');
  const [days, setDays] = useState<number | null>(90);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onCreated(await client.createToken(name.trim(), days));
      setName('');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="space-y-3" data-testid="token-form" noValidate>
      <div className="flex flex-col gap-3 sm:flex-row sm:items-end">
        <Field label="Name" placeholder="e.g. laptop script" maxLength={100} value={name} onChange={(e) => setName(e.target.value)} className="flex-1" data-testid="token-name" />
        <div>
          <label htmlFor="token-expiry" className="mb-1 block text-sm font-medium text-zinc-800 dark:text-zinc-200">
            Expires
          </label>
          <select
            id="token-expiry"
            value={days === null ? 'never' : String(days)}
            onChange={(e) => setDays(e.target.value === 'never' ? null : Number(e.target.value))}
            data-testid="token-expiry"
            className="block h-10 rounded-lg border border-zinc-300 bg-white px-2.5 text-sm text-zinc-900 shadow-xs focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/20 focus:outline-none dark:border-zinc-700 dark:bg-zinc-950 dark:text-zinc-100"
          >
            {EXPIRY_CHOICES.map((c) => (
              <option key={c.label} value={c.days === null ? 'never' : String(c.days)}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      {error && (
        <ActionMessage tone="error" testId="token-error">
          {error}
        </ActionMessage>
      )}
      <Button type="submit" variant="primary" icon={busy ? undefined : Plus} disabled={busy || !name.trim()} data-testid="token-create">
        {busy && <Spinner />}
        Create token
      </Button>
    </form>
  );
}

/** The new token's secret, this once, with a Copy button. */
function CreatedToken({ token, onDone }: { token: NewApiToken; onDone: () => void }) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(token.token);
      setCopied('yes');
    } catch {
      setCopied('no'); // no clipboard (plain http, or refused): the text is selectable
    }
  };
  return (
    <div className="space-y-3 rounded-xl border border-emerald-200 bg-emerald-50 p-3.5 dark:border-emerald-500/20 dark:bg-emerald-500/10" data-testid="token-created">
      <p className="text-sm text-emerald-900 dark:text-emerald-200">
        <span className="font-semibold">Token “{token.name}” created.</span> Copy it now: you won’t see it again.
      </p>
      <div className="flex items-center gap-2">
        <code
          className="min-w-0 flex-1 rounded-lg border border-emerald-200 bg-white px-2.5 py-2 font-mono text-xs break-all text-zinc-900 select-all dark:border-emerald-500/20 dark:bg-zinc-950 dark:text-zinc-100"
          data-testid="token-secret"
        >
          {token.token}
        </code>
        <Button icon={copied === 'yes' ? Check : Copy} onClick={() => void copy()} data-testid="token-copy" data-autofocus>
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </Button>
      </div>
      {copied === 'no' && <p className="text-xs text-emerald-900 dark:text-emerald-200">The browser would not copy it: select the text and copy it by hand.</p>}
      <div className="flex justify-end">
        <Button size="sm" variant="ghost" onClick={onDone} data-testid="token-done">
          Done
        </Button>
      </div>
    </div>
  );
}

function TokenRow({ token, onRevoke }: { token: ApiToken; onRevoke: () => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const expired = token.expires_at ? new Date(token.expires_at).getTime() < Date.now() : false;
  const revoke = async () => {
    setBusy(true);
    setError(null);
    try {
      await onRevoke();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };
  return (
    <li className="flex items-start gap-3 px-3.5 py-3" data-testid="token-item" data-token-id={token.id}>
      <div className="min-w-0 flex-1">
        <div className="flex items-center gap-2">
          <span className="truncate text-sm font-medium" data-testid="token-item-name">
            {token.name}
          </span>
          <code className="shrink-0 rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-[0.6875rem] text-zinc-600 dark:bg-zinc-800 dark:text-zinc-300" data-testid="token-prefix">
            {token.prefix}…
          </code>
          {expired && <span className="shrink-0 rounded-full bg-amber-50 px-1.5 py-0.5 text-[0.6875rem] font-medium text-amber-800 ring-1 ring-amber-600/20 ring-inset dark:bg-amber-500/10 dark:text-amber-300">Expired</span>}
        </div>
        <p className="mt-0.5 text-xs text-zinc-500 dark:text-zinc-400">
          <span title={fullTime(token.created_at)}>Created {relativeTime(token.created_at)}</span>
          {' · '}
          {token.last_used_at ? <span title={fullTime(token.last_used_at)}>last used {relativeTime(token.last_used_at)}</span> : 'never used'}
          {token.expires_at && !expired && (
            <>
              {' · '}
              <span title={fullTime(token.expires_at)}>expires {fullTime(token.expires_at)}</span>
            </>
          )}
        </p>
        {error && <p className="mt-1 text-xs text-rose-600 dark:text-rose-400">{error}</p>}
      </div>
      <ConfirmRevoke onRevoke={() => void revoke()} busy={busy} testId="token-revoke" label={`Revoke ${token.name}`} variant="secondary" />
    </li>
  );
}
