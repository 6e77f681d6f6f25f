import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { App } from '../../App';
import { setCsrfToken, tooManyRequests } from '../../api/client';
import { FakeSocket } from '../../test/fakeSocket';
import { fakeAuthServer, json } from '../../test/fakeAuthServer';

function at(path: string) {
  window.history.replaceState(null, '', path);
}

async function signIn(user: ReturnType<typeof userEvent.setup>, username = 'alice', password = 'correct horse battery') {
  await screen.findByTestId('signin-page');
  await user.type(screen.getByLabelText('Username'), username);
  await user.type(screen.getByLabelText('Password'), password);
  await user.click(screen.getByTestId('auth-submit'));
}

async function startPitch(user: ReturnType<typeof userEvent.setup>, text = 'Ada Lovelace') {
  await user.type(await screen.findByTestId('composer-input'), `${text}{Enter}`);
}

describe('signing in', () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.stubGlobal('WebSocket', FakeSocket);
    at('/');
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    setCsrfToken(null);
  });

  it('AUTH_MODE=none opens straight into the studio: no sign-in page, no account menu', async () => {
    const server = fakeAuthServer({ mode: 'none' });
    render(<App />);
    await screen.findByTestId('welcome');
    expect(screen.queryByTestId('signin-page')).toBeNull();
    expect(screen.queryByTestId('account-menu')).toBeNull();
    expect(server.requests.some((r) => r.path === '/api/v1/auth/me')).toBe(true);
  });

  it('password mode, signed out: the sign-in form, with sign-up offered while it is open', async () => {
    fakeAuthServer({ mode: 'password', signupOpen: true });
    render(<App />);
    const page = await screen.findByTestId('signin-page');
    expect(within(page).getByLabelText('Username')).toBeInTheDocument();
    expect(within(page).getByLabelText('Password')).toBeInTheDocument();
    expect(within(page).getByRole('button', { name: 'Create an account' })).toBeInTheDocument();
    expect(within(page).queryByText('Sign in with your provider')).toBeNull();
    expect(screen.queryByTestId('welcome')).toBeNull();
  });

  it('with sign-up closed, no "Create an account", and /signup shows the sign-in page', async () => {
    fakeAuthServer({ mode: 'password', signupOpen: false });
    at('/signup');
    render(<App />);
    const page = await screen.findByTestId('signin-page');
    expect(within(page).queryByRole('button', { name: 'Create an account' })).toBeNull();
    expect(page).toHaveTextContent('Ask the admin');
  });

  it('a wrong password shows the server’s message and stays on the sign-in page', async () => {
    fakeAuthServer();
    const user = userEvent.setup();
    render(<App />);
    await signIn(user, 'alice', 'not the password');
    expect(await screen.findByTestId('auth-error')).toHaveTextContent('Wrong username or password.');
    expect(screen.getByTestId('signin-page')).toBeInTheDocument();
  });

  it('signs in into the studio with the account menu; a change after it carries the CSRF token', async () => {
    const server = fakeAuthServer();
    server.override('POST /api/v1/sessions/11111111-1111-4111-8111-111111111111/messages/async', () => json({ detail: 'stop here' }, 409));
    const user = userEvent.setup();
    at('/signin');
    render(<App />);
    await signIn(user);
    await screen.findByTestId('welcome');
    expect(screen.getByTestId('account-name')).toHaveTextContent('alice');
    expect(window.location.pathname).toBe('/');
    await startPitch(user);
    await waitFor(() => expect(server.requests.some((r) => r.method === 'POST' && r.path === '/api/v1/sessions')).toBe(true));
    const create = server.requests.find((r) => r.method === 'POST' && r.path === '/api/v1/sessions');
    expect(create?.headers.get('X-CSRF-Token')).toBe('csrf-alice');
    // Reads carry no token: it is for changes only.
    const read = server.requests.find((r) => r.method === 'GET' && r.path === '/api/v1/sessions');
    expect(read?.headers.get('X-CSRF-Token')).toBeNull();
    expect(await screen.findByRole('alert')).toHaveTextContent('stop here');
  });

  it('a 401 anywhere (the sign-in ended) returns to the sign-in page', async () => {
    const server = fakeAuthServer();
    const user = userEvent.setup();
    render(<App />);
    await signIn(user);
    await screen.findByTestId('welcome');
    server.expire();
    await startPitch(user);
    await screen.findByTestId('signin-page');
    expect(screen.queryByTestId('welcome')).toBeNull();
  });

  it('a 429 says how long to wait, from Retry-After', async () => {
    const server = fakeAuthServer();
    server.override('POST /api/v1/sessions', () => json({ detail: 'Too many requests.', code: 'rate_limited', retry_after: 40 }, 429, { 'Retry-After': '40' }));
    const user = userEvent.setup();
    render(<App />);
    await signIn(user);
    await startPitch(user);
    expect(await screen.findByRole('alert')).toHaveTextContent('Too many requests — try again in 40 seconds.');
    expect(screen.getByTestId('welcome')).toBeInTheDocument();
  });

  it('words the wait in seconds, minutes or hours', () => {
    expect(tooManyRequests('1')).toBe('Too many requests — try again in 1 second.');
    expect(tooManyRequests(40)).toBe('Too many requests — try again in 40 seconds.');
    expect(tooManyRequests('90')).toBe('Too many requests — try again in 2 minutes.');
    expect(tooManyRequests(3600)).toBe('Too many requests — try again in 1 hour.');
    expect(tooManyRequests(undefined)).toBe('Too many requests — wait a moment and try again.');
  });

  it('an API token is shown once with a Copy button, then listed by name and prefix, and can be revoked', async () => {
    const server = fakeAuthServer();
    const writeText = vi.fn(async () => {});
    const user = userEvent.setup();
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    render(<App />);
    await signIn(user);
    await user.click(await screen.findByTestId('account-button'));
    await user.click(screen.getByRole('menuitem', { name: 'API tokens' }));
    const dialog = await screen.findByRole('dialog', { name: 'API tokens' });
    await within(dialog).findByText('No tokens yet');
    await user.type(within(dialog).getByLabelText('Name'), 'laptop script');
    await user.click(within(dialog).getByTestId('token-create'));
    const created = await within(dialog).findByTestId('token-created');
    expect(created).toHaveTextContent('you won’t see it again');
    expect(within(created).getByTestId('token-secret')).toHaveTextContent('afp_secret1xyzxyzxyzxyz');
    await user.click(within(created).getByTestId('token-copy'));
    expect(writeText).toHaveBeenCalledWith('afp_secret1xyzxyzxyzxyz');
    const post = server.requests.find((r) => r.method === 'POST' && r.path === '/api/v1/auth/tokens');
    expect(post?.body).toEqual({ name: 'laptop script', expires_in_days: 90 });
    expect(post?.headers.get('X-CSRF-Token')).toBe('csrf-alice');
    const item = await within(dialog).findByTestId('token-item');
    expect(item).toHaveTextContent('laptop script');
    expect(item).toHaveTextContent('afp_secret1x…');
    expect(item).toHaveTextContent('never used');

    // Closed and opened again: listed, the secret gone for good.
    await user.click(within(dialog).getByTestId('dialog-close'));
    await user.click(screen.getByTestId('account-button'));
    await user.click(screen.getByRole('menuitem', { name: 'API tokens' }));
    const again = await screen.findByRole('dialog', { name: 'API tokens' });
    await within(again).findByTestId('token-item');
    expect(within(again).queryByTestId('token-created')).toBeNull();
    expect(again).not.toHaveTextContent('afp_secret1xyzxyzxyzxyz');

    await user.click(within(again).getByTestId('token-revoke'));
    await user.click(within(again).getByTestId('token-revoke-confirm'));
    await within(again).findByText('No tokens yet');
    expect(server.tokens).toHaveLength(0);
  });

  it('signs up, then signs out back to the sign-in page', async () => {
    const server = fakeAuthServer();
    const user = userEvent.setup();
    render(<App />);
    await user.click(await screen.findByRole('button', { name: 'Create an account' }));
    await screen.findByTestId('signup-page');
    expect(window.location.pathname).toBe('/signup');
    await user.type(screen.getByLabelText('Username'), 'bob');
    await user.type(screen.getByLabelText('Password'), 'a long enough password');
    await user.type(screen.getByLabelText('Repeat the password'), 'a long enough password');
    await user.click(screen.getByTestId('auth-submit'));
    await screen.findByTestId('welcome');
    expect(screen.getByTestId('account-name')).toHaveTextContent('bob');
    expect(window.location.pathname).toBe('/');

    await user.click(screen.getByTestId('account-button'));
    await user.click(screen.getByRole('menuitem', { name: 'Sign out' }));
    await screen.findByTestId('signin-page');
    expect(window.location.pathname).toBe('/signin');
    expect(server.signedInAs()).toBeNull();
    const signout = server.requests.find((r) => r.path === '/api/v1/auth/signout');
    expect(signout?.headers.get('X-CSRF-Token')).toBe('csrf-bob');
  });

  it('sign-up checks that the two passwords match before asking the server', async () => {
    const server = fakeAuthServer();
    const user = userEvent.setup();
    at('/signup');
    render(<App />);
    await screen.findByTestId('signup-page');
    await user.type(screen.getByLabelText('Username'), 'bob');
    await user.type(screen.getByLabelText('Password'), 'a long enough password');
    await user.type(screen.getByLabelText('Repeat the password'), 'another password');
    await user.click(screen.getByTestId('auth-submit'));
    expect(await screen.findByTestId('auth-error')).toHaveTextContent('not the same');
    expect(server.requests.some((r) => r.path === '/api/v1/auth/signup')).toBe(false);
  });

  it('a wrong current password in "Change password" says so and keeps the user signed in', async () => {
    fakeAuthServer();
    const user = userEvent.setup();
    render(<App />);
    await signIn(user);
    await user.click(await screen.findByTestId('account-button'));
    await user.click(screen.getByRole('menuitem', { name: 'Change password' }));
    const dialog = await screen.findByRole('dialog', { name: 'Change password' });
    await user.type(within(dialog).getByLabelText('Current password'), 'wrong one');
    await user.type(within(dialog).getByLabelText('New password'), 'a brand new password');
    await user.type(within(dialog).getByLabelText('Repeat the new password'), 'a brand new password');
    await user.click(within(dialog).getByTestId('password-submit'));
    expect(await within(dialog).findByTestId('password-error')).toHaveTextContent('The current password is wrong.');
    expect(screen.getByTestId('account-menu')).toBeInTheDocument();

    await user.clear(within(dialog).getByLabelText('Current password'));
    await user.type(within(dialog).getByLabelText('Current password'), 'correct horse battery');
    await user.click(within(dialog).getByTestId('password-submit'));
    await within(dialog).findByTestId('password-changed');
  });

  it('OIDC: a provider link, and the error a failed provider sign-in came back with', async () => {
    fakeAuthServer({ mode: 'oidc' });
    at('/?signin_error=access_denied');
    render(<App />);
    const page = await screen.findByTestId('signin-page');
    expect(within(page).getByRole('link', { name: 'Sign in with your provider' })).toHaveAttribute('href', '/api/v1/auth/oidc/login');
    expect(within(page).getByTestId('signin-error')).toHaveTextContent('cancelled at your provider');
    expect(within(page).queryByLabelText('Password')).toBeNull();
    // Taken out of the address: a reload does not show it again.
    await waitFor(() => expect(window.location.search).toBe(''));
  });

  it('proxy mode, nobody asserted by the gateway: says so, with no form to fill', async () => {
    fakeAuthServer({ mode: 'proxy' });
    render(<App />);
    const page = await screen.findByTestId('signin-page');
    expect(within(page).getByTestId('signin-proxy')).toHaveTextContent('gateway');
    expect(within(page).queryByLabelText('Password')).toBeNull();
    expect(within(page).queryByRole('button', { name: 'Create an account' })).toBeNull();
  });

  it('the account menu opens on its first item and goes round with the arrow keys; Escape closes it', async () => {
    fakeAuthServer();
    const user = userEvent.setup();
    render(<App />);
    await signIn(user);
    await user.click(await screen.findByTestId('account-button'));
    const items = within(screen.getByRole('menu', { name: 'Account' })).getAllByRole('menuitem');
    expect(items.map((i) => i.textContent)).toEqual(['Change password', 'API tokens', 'Sign out']);
    expect(items[0]).toHaveFocus();
    await user.keyboard('{ArrowUp}');
    expect(items[2]).toHaveFocus();
    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(items[1]).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('menu')).toBeNull();
    expect(screen.getByTestId('account-button')).toHaveFocus();
  });

  it('signed in from a session’s address, the session opens', async () => {
    fakeAuthServer();
    const user = userEvent.setup();
    at('/s/11111111-1111-4111-8111-111111111111');
    render(<App />);
    await signIn(user);
    await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
    expect(window.location.pathname).toBe('/s/11111111-1111-4111-8111-111111111111');
    await act(async () => await Promise.resolve());
  });
});
