import { useState, type FormEvent } from 'react';

import type { AuthApi } from '../../api/auth';
import { ActionMessage, Button, Spinner } from '../ui';
import { Dialog, Field } from './Dialog';

/** Change the account's password: the current one, then the new one twice. Other browsers signed in
 * as this account are signed out by the server; this one stays. */
export function PasswordDialog({ client, onClose }: { client: Pick<AuthApi, 'changePassword'>; onClose: () => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (next !== confirm) {
      setError('The two new passwords are not the same.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await client.changePassword(current, next);
      setDone(true);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title="Change password" description="Other browsers signed in to this account will be signed out." onClose={onClose} testId="password-dialog">
      {done ? (
        <div className="space-y-4">
          <ActionMessage tone="success" testId="password-changed">
            Your password is changed.
          </ActionMessage>
          <div className="flex justify-end">
            <Button variant="primary" onClick={onClose} data-autofocus>
              Done
            </Button>
          </div>
        </div>
      ) : (
        <form onSubmit={(e) => void submit(e)} className="space-y-4" noValidate>
          {/* Lets a password manager tie the new password to this account. */}
          <input type="text" name="username" autoComplete="username" hidden readOnly />
          <Field label="Current password" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} data-testid="current-password" />
          <Field label="New password" type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} hint="At least 10 characters." data-testid="new-password" />
          <Field label="Repeat the new password" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} data-testid="new-password-confirm" />
          {error && (
            <ActionMessage tone="error" testId="password-error">
              {error}
            </ActionMessage>
          )}
          <div className="flex justify-end gap-2">
            <Button onClick={onClose}>Cancel</Button>
            <Button type="submit" variant="primary" disabled={busy || !current || !next || !confirm} data-testid="password-submit">
              {busy && <Spinner />}
              Change password
            </Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
