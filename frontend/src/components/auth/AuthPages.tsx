/** The pages of a signed-out visitor: sign in (a password, or the OpenID Connect provider) and sign up. */
import { Clapperboard, KeyRound, LogIn, UserPlus, type LucideIcon } from 'lucide-react';
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';

import { OIDC_LOGIN_URL, type AuthConfig } from '../../api/auth';
import { useTheme } from '../../hooks/useTheme';
import { ThemeToggle } from '../ThemeToggle';
import { ActionMessage, Button, Spinner } from '../ui';
import { Field } from './Dialog';

/** What /?signin_error=<code> (a failed sign-in with the provider) means, in words. */
const SIGNIN_ERRORS: Record<string, string> = {
  access_denied: 'The sign-in was cancelled at your provider.',
  state_mismatch: 'The sign-in took too long or was started in another tab. Please try again.',
  provider_unavailable: 'The sign-in provider cannot be reached right now. Try again in a moment.',
  provider_error: 'Your provider refused the sign-in.',
  invalid_token: 'Your provider’s answer could not be verified, so you were not signed in.',
  account_conflict: 'Your account could not be created. Please try again.',
};

export function signInErrorMessage(code: string): string {
  return SIGNIN_ERRORS[code] ?? `Signing in with your provider did not work (${code.slice(0, 40)}). Please try again.`;
}

/** The centred card both pages share: the studio's mark, a title, the form. */
function AuthCard({ title, subtitle, children, footer, testId }: { title: string; subtitle: ReactNode; children: ReactNode; footer?: ReactNode; testId: string }) {
  const theme = useTheme();
  return (
    <div className="flex min-h-dvh flex-col bg-zinc-50 dark:bg-zinc-950" data-testid={testId}>
      <div className="flex justify-end p-3">
        <ThemeToggle choice={theme.choice} dark={theme.dark} onCycle={theme.cycle} />
      </div>
      <main className="m-auto w-full max-w-sm px-4 pb-16">
        <div className="mb-6 text-center">
          <div className="mx-auto mb-4 flex size-12 items-center justify-center rounded-2xl bg-gradient-to-br from-indigo-500 to-violet-600 text-white shadow-lg shadow-indigo-500/25">
            <Clapperboard aria-hidden className="size-6" />
          </div>
          <h1 className="text-xl font-semibold tracking-tight">{title}</h1>
          <p className="mt-1.5 text-sm text-zinc-500 dark:text-zinc-400">{subtitle}</p>
        </div>
        <div className="rounded-2xl border border-zinc-200 bg-white p-5 shadow-sm dark:border-zinc-800 dark:bg-zinc-900">{children}</div>
        {footer && <div className="mt-5 text-center text-sm text-zinc-500 dark:text-zinc-400">{footer}</div>}
      </main>
    </div>
  );
}

function LinkButton({ onClick, children, testId }: { onClick: () => void; children: ReactNode; testId?: string }) {
  return (
    <button type="button" onClick={onClick} data-testid={testId} className="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
      {children}
    </button>
  );
}

/** The username and password form of both pages; `onSubmit` throws the server's refusal. */
function PasswordForm({
  submitLabel,
  submitIcon: SubmitIcon,
  newPassword,
  onSubmit,
  testId,
}: {
  submitLabel: string;
  submitIcon: LucideIcon;
  newPassword: boolean;
  onSubmit: (username: string, password: string) => Promise<void>;
  testId: string;
}) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (newPassword && password !== confirm) {
      setError('The two passwords are not the same.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSubmit(username.trim(), password);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="space-y-4" data-testid={testId} noValidate>
      <Field
        label="Username"
        name="username"
        autoComplete="username"
        autoCapitalize="none"
        spellCheck={false}
        autoFocus
        required
        value={username}
        onChange={(e) => setUsername(e.target.value)}
        hint={newPassword ? 'Lower-case letters, digits and . _ @ + -' : undefined}
        data-testid="auth-username"
      />
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete={newPassword ? 'new-password' : 'current-password'}
        required
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        hint={newPassword ? 'At least 10 characters.' : undefined}
        data-testid="auth-password"
      />
      {newPassword && (
        <Field
          label="Repeat the password"
          name="confirm"
          type="password"
          autoComplete="new-password"
          required
          value={confirm}
          onChange={(e) => setConfirm(e.target.value)}
          data-testid="auth-password-confirm"
        />
      )}
      {error && (
        <ActionMessage tone="error" testId="auth-error">
          {error}
        </ActionMessage>
      )}
      <Button type="submit" variant="primary" className="w-full" disabled={busy || !username.trim() || !password} data-testid="auth-submit">
        {busy ? <Spinner /> : <SubmitIcon aria-hidden className="size-4" />}
        {submitLabel}
      </Button>
    </form>
  );
}

export function SignInPage({
  config,
  signinError,
  onSignIn,
  onSignUpPage,
}: {
  config: AuthConfig;
  /** A failed provider sign-in's code, from the URL. */
  signinError: string | null;
  onSignIn: (username: string, password: string) => Promise<void>;
  onSignUpPage: () => void;
}) {
  const passwords = config.auth_mode === 'password';
  const providerError = signinError ? (
    <ActionMessage tone="error" testId="signin-error">
      {signInErrorMessage(signinError)}
    </ActionMessage>
  ) : null;
  return (
    <AuthCard
      testId="signin-page"
      title="Sign in to Agente Films"
      subtitle="Your pitches and sessions are waiting."
      footer={
        config.signup_open ? (
          <>
            New here? <LinkButton onClick={onSignUpPage} testId="to-signup">Create an account</LinkButton>
          </>
        ) : passwords ? (
          'Need an account? Ask the admin of this server.'
        ) : null
      }
    >
      <div className="space-y-4">
        {config.oidc_enabled && (
          <>
            {providerError}
            <a
              href={OIDC_LOGIN_URL}
              data-testid="signin-oidc"
              className="inline-flex h-10 w-full items-center justify-center gap-2 rounded-lg bg-zinc-900 px-3.5 text-sm font-medium text-white shadow-sm transition-colors hover:bg-zinc-700 dark:bg-white dark:text-zinc-900 dark:hover:bg-zinc-200"
            >
              <KeyRound aria-hidden className="size-4" />
              Sign in with your provider
            </a>
          </>
        )}
        {config.oidc_enabled && passwords && (
          <div className="flex items-center gap-3 text-xs text-zinc-400">
            <span className="h-px flex-1 bg-zinc-200 dark:bg-zinc-800" />
            or with a password
            <span className="h-px flex-1 bg-zinc-200 dark:bg-zinc-800" />
          </div>
        )}
        {!config.oidc_enabled && providerError}
        {passwords && <PasswordForm submitLabel="Sign in" submitIcon={LogIn} newPassword={false} onSubmit={onSignIn} testId="signin-form" />}
        {config.auth_mode === 'proxy' && (
          <p className="text-sm text-zinc-600 dark:text-zinc-300" data-testid="signin-proxy">
            On this server people sign in through their organisation’s gateway, and it did not say who you are. Open Agente Films at the
            gateway’s address, or ask its admin.
          </p>
        )}
      </div>
    </AuthCard>
  );
}

export function SignUpPage({ onSignUp, onSignInPage }: { onSignUp: (username: string, password: string) => Promise<void>; onSignInPage: () => void }) {
  return (
    <AuthCard
      testId="signup-page"
      title="Create your account"
      subtitle="Pitch films with a team of AI agents; your sessions are yours alone."
      footer={
        <>
          Already have an account? <LinkButton onClick={onSignInPage} testId="to-signin">Sign in</LinkButton>
        </>
      }
    >
      <PasswordForm submitLabel="Create account" submitIcon={UserPlus} newPassword onSubmit={onSignUp} testId="signup-form" />
    </AuthCard>
  );
}

/** While the page asks the server who is signed in: nothing at first (it takes milliseconds), a spinner if it takes a while. */
export function AuthLoading() {
  const [slow, setSlow] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setSlow(true), 400);
    return () => clearTimeout(timer);
  }, []);
  return (
    <div className="flex min-h-dvh items-center justify-center text-zinc-400" data-testid="auth-loading" aria-busy="true">
      {slow && <Spinner className="size-5" />}
    </div>
  );
}
