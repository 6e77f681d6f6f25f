// Browser tests of sign-in: real headless Chromium against the real backend (offline model) in
// AUTH_MODE=password with sign-up open, started here like in the other scripts. Alice signs up,
// writes a pitch and downloads it, tries her account menu (password, API tokens) and shares the
// pitch; the link opens read-only to someone signed out; Bob signs up and sees none of Alice's work,
// not even by its address; signing out returns to the sign-in page; guessing passwords ends in a
// readable 429. (AUTH_MODE=none opening straight into the studio is run.mjs's first scenario.)
// Usage: `npm run e2e:auth` (builds dist/ first if it is missing; E2E_BUILD=1 forces a build).
// Screenshots go to test-results/screenshots/ (auth-*).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { FAST_MS, shot as saveShot, textOf, until, suite, withStack } from './harness.mjs';

const { scenario, finish } = suite();
const consoleProblems = [];
/** The 401s, 403s, 404s and 429s the browser logs for what this script does on purpose (asking who
 * is signed in while nobody is, a wrong password, Bob opening Alice's session, guessing passwords). */
const expected = [];
const ALICE = { username: 'alice', password: 'ada-lovelace-1815' };
const ALICE_NEW_PASSWORD = 'analytical-engine-1843';
const BOB = { username: 'bob', password: 'charles-babbage-1791' };
/** Sign-in attempts an account gets in 15 minutes here (the default, 10). */
const SIGN_IN_TRIES = 10;

function watch(page, label) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (/status of (401|403|404|429)/.test(msg.text())) expected.push(`[${label}] ${msg.text()}`);
    else consoleProblems.push(`[${label}] ${msg.text()}`);
  });
  page.on('pageerror', (err) => consoleProblems.push(`[${label}] page error: ${err.message}`));
}

const shot = (page, name) => saveShot(page, `auth-${name}`);

async function main() {
  await withStack(
    'auth',
    FAST_MS,
    async ({ backend, browser }) => {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light', acceptDownloads: true });
      const page = await context.newPage();
      watch(page, 'desktop');
      let aliceSession = '';
      let shareUrl = '';
      const signInPage = page.getByTestId('signin-page');
      const bearer = (token) => ({ headers: { authorization: `Bearer ${token}` } });

      async function fillSignIn({ username, password }) {
        await signInPage.waitFor();
        await page.getByLabel('Username').fill(username);
        await page.getByLabel('Password', { exact: true }).fill(password);
        await page.getByTestId('auth-submit').click();
      }
      async function signUp({ username, password }, shotName = null) {
        await signInPage.getByRole('button', { name: 'Create an account' }).click();
        await page.getByTestId('signup-page').waitFor();
        assert.equal(new URL(page.url()).pathname, '/signup');
        await page.getByLabel('Username').fill(username);
        await page.getByLabel('Password', { exact: true }).fill(password);
        await page.getByLabel('Repeat the password').fill(password);
        if (shotName) await shot(page, shotName);
        await page.getByTestId('auth-submit').click();
        await page.getByTestId('welcome').waitFor();
        assert.equal(await textOf(page.getByTestId('account-name')), username);
      }
      async function openMenu() {
        await page.getByTestId('account-button').click();
        await page.getByRole('menu', { name: 'Account' }).waitFor();
      }
      async function signOut() {
        await openMenu();
        await page.getByRole('menuitem', { name: 'Sign out' }).click();
        await signInPage.waitFor();
        assert.equal(new URL(page.url()).pathname, '/signin');
        // The cookie is gone, not just hidden: a reload still finds nobody signed in.
        await page.reload();
        await signInPage.waitFor();
        assert.equal(await page.getByTestId('welcome').count(), 0);
      }

      await scenario('opening the app shows the sign-in page, and the API wants a sign-in', async () => {
        await page.goto(backend.url);
        await signInPage.waitFor();
        assert.equal(await page.getByTestId('welcome').count(), 0);
        assert.equal(await page.getByTestId('sidebar').count(), 0);
        assert.equal(await signInPage.getByRole('button', { name: 'Create an account' }).count(), 1);
        assert.equal(await signInPage.getByText('Sign in with your provider').count(), 0);
        assert.equal((await backend.api('/api/v1/sessions')).status, 401);
        assert.deepEqual((await backend.api('/api/v1/auth/config')).body, { auth_mode: 'password', signup_open: true, oidc_enabled: false });
        await shot(page, '01-signin');
      });

      await scenario('alice signs up and lands in the studio, with her account menu in the top bar', async () => {
        await signUp(ALICE, '01b-signup');
        assert.equal(new URL(page.url()).pathname, '/');
        assert.equal(await page.getByTestId('session-item').count(), 0);
      });

      await scenario('alice writes a pitch for Ada Lovelace and downloads it as Markdown and PDF', async () => {
        await page.getByTestId('composer-input').fill('Ada Lovelace');
        await page.keyboard.press('Enter');
        await page.waitForURL(/\/s\/[0-9a-f-]{36}$/);
        aliceSession = page.url().split('/').pop();
        await page.getByTestId('chat-panel').getByTestId('document-card').waitFor({ timeout: 60_000 });
        await page.locator('[data-testid="run"][data-status="completed"]').waitFor({ timeout: 30_000 });
        await page.locator(`[data-testid="session-item"][data-session-id="${aliceSession}"]`).waitFor();
        // Downloads are plain links: the sign-in cookie goes with them.
        const card = page.getByTestId('chat-panel').getByTestId('document-card');
        const [md] = await Promise.all([page.waitForEvent('download'), card.getByTestId('download-markdown').click()]);
        assert.match(readFileSync(await md.path(), 'utf8'), /## Logline/);
        const [pdf] = await Promise.all([page.waitForEvent('download'), card.getByTestId('download-pdf').click()]);
        assert.equal(readFileSync(await pdf.path()).subarray(0, 4).toString('latin1'), '%PDF');
      });

      await scenario('the account menu: change the password (a wrong current one is refused)', async () => {
        await openMenu();
        await page.waitForTimeout(250); // the menu fades in
        await shot(page, '02-account-menu');
        await page.getByRole('menuitem', { name: 'Change password' }).click();
        const dialog = page.getByRole('dialog', { name: 'Change password' });
        await dialog.getByLabel('Current password').fill('not-my-password');
        await dialog.getByLabel('New password', { exact: true }).fill(ALICE_NEW_PASSWORD);
        await dialog.getByLabel('Repeat the new password').fill(ALICE_NEW_PASSWORD);
        await dialog.getByTestId('password-submit').click();
        assert.match(await textOf(dialog.getByTestId('password-error')), /current password is wrong/);
        await dialog.getByLabel('Current password').fill(ALICE.password);
        await dialog.getByTestId('password-submit').click();
        await dialog.getByTestId('password-changed').waitFor();
        await dialog.getByRole('button', { name: 'Done' }).click();
        await dialog.waitFor({ state: 'detached' });
        // This browser stays signed in.
        assert.equal(await textOf(page.getByTestId('account-name')), 'alice');
      });

      await scenario('API tokens: made in the menu and shown once, they work as Bearer tokens until revoked', async () => {
        await openMenu();
        await page.getByRole('menuitem', { name: 'API tokens' }).click();
        const dialog = page.getByRole('dialog', { name: 'API tokens' });
        await dialog.getByText('No tokens yet').waitFor();
        await dialog.getByLabel('Name').fill('e2e script');
        await dialog.getByTestId('token-create').click();
        const secret = await textOf(dialog.getByTestId('token-secret'));
        assert.match(secret, /^afp_/);
        assert.match(await textOf(dialog.getByTestId('token-created')), /you won’t see it again/);
        const item = dialog.getByTestId('token-item');
        await item.waitFor();
        assert.match(await textOf(item), /e2e script/);
        assert.equal(await textOf(item.getByTestId('token-prefix')), `${secret.slice(0, 12)}…`);
        await page.waitForTimeout(250); // the dialog fades in
        await shot(page, '03-tokens-dialog');

        // The token works as alice from a script.
        const listed = await backend.api('/api/v1/sessions', bearer(secret));
        assert.equal(listed.status, 200);
        assert.deepEqual(listed.body.items.map((s) => s.id), [aliceSession]);
        assert.match(await textOf(item), /last used|never used/);

        // Closed and opened again: listed, the secret never shown again.
        await dialog.getByTestId('dialog-close').click();
        await openMenu();
        await page.getByRole('menuitem', { name: 'API tokens' }).click();
        await dialog.getByTestId('token-item').waitFor();
        assert.equal(await dialog.getByTestId('token-created').count(), 0);
        assert.ok(!(await textOf(dialog)).includes(secret), 'the secret is shown once only');
        await until('"last used" on the token', async () => {
          await dialog.getByTestId('dialog-close').click();
          await openMenu();
          await page.getByRole('menuitem', { name: 'API tokens' }).click();
          return /last used/.test(await textOf(dialog.getByTestId('token-item')));
        }, { timeout: 5000, interval: 250 });
        await page.waitForTimeout(250);
        await shot(page, '04-tokens-listed');

        await dialog.getByTestId('token-revoke').click();
        await dialog.getByTestId('token-revoke-confirm').click();
        await dialog.getByText('No tokens yet').waitFor();
        assert.equal((await backend.api('/api/v1/sessions', bearer(secret))).status, 401);
        await dialog.getByTestId('dialog-close').click();
      });

      await scenario('alice makes a share link to her pitch', async () => {
        await page.getByTestId('share-button').click();
        const dialog = page.getByRole('dialog');
        await dialog.getByTestId('share-create').click();
        shareUrl = await dialog.getByTestId('share-url').first().inputValue();
        assert.match(shareUrl, /\/shared\//);
        await page.waitForTimeout(250);
        await shot(page, '05-share-dialog');
        await page.keyboard.press('Escape');
        await dialog.waitFor({ state: 'detached' });
      });

      await scenario('alice signs out: the sign-in page, and her session’s address shows it too', async () => {
        await signOut();
        await page.goto(`${backend.url}/s/${aliceSession}`);
        await signInPage.waitFor();
        assert.equal(await page.getByTestId('session-view').count(), 0);
      });

      await scenario('signed out, the share link opens alice’s pitch read-only', async () => {
        await page.goto(shareUrl);
        await page.getByTestId('shared-view').waitFor();
        await page.getByTestId('shared-title').waitFor();
        assert.match(await textOf(page.getByTestId('shared-title')), /Ada Lovelace/);
        assert.equal(await page.getByTestId('composer-input').count(), 0, 'no composer on a shared page');
        assert.equal(await page.getByTestId('signin-page').count(), 0);
        assert.equal(await page.getByTestId('account-menu').count(), 0);
        await page.waitForTimeout(250);
        await shot(page, '06-shared-read-only');
      });

      await scenario('bob signs up: alice’s session is neither in his list nor open to him by its address', async () => {
        await page.goto(backend.url);
        await signUp(BOB);
        await page.getByTestId('session-list').getByText('No pitches yet').waitFor();
        assert.equal(await page.locator(`[data-testid="session-item"][data-session-id="${aliceSession}"]`).count(), 0);
        await page.goto(`${backend.url}/s/${aliceSession}`);
        await page.getByText('This session does not exist').waitFor();
        assert.equal(await page.getByTestId('composer-input').isDisabled(), true);
        assert.equal(await page.getByTestId('share-button').count(), 0);
        await shot(page, '07-bob-not-found');
      });

      await scenario('bob signs out: back to the sign-in page', async () => {
        await page.goto(backend.url);
        await page.getByTestId('welcome').waitFor();
        await signOut();
      });

      await scenario('guessing a password: after a few tries the page says how long to wait (429)', async () => {
        const statuses = [];
        for (let attempt = 1; attempt <= SIGN_IN_TRIES + 1; attempt++) {
          const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/signin'));
          await fillSignIn({ username: 'mallory', password: `guess number ${attempt}` });
          statuses.push((await answered).status());
        }
        assert.deepEqual(statuses, [...Array(SIGN_IN_TRIES).fill(401), 429]);
        const message = await textOf(page.getByTestId('auth-error'));
        assert.match(message, /^Too many requests — try again in \d+ (seconds?|minutes?)\.$/);
        await shot(page, '10-too-many-sign-ins');
      });

      await scenario('alice signs in again: her old password is refused with the server’s message, the new one works', async () => {
        await page.goto(`${backend.url}/s/${aliceSession}`);
        await fillSignIn(ALICE);
        assert.equal(await textOf(page.getByTestId('auth-error')), 'Wrong username or password.');
        await page.getByLabel('Password', { exact: true }).fill(ALICE_NEW_PASSWORD);
        await page.getByTestId('auth-submit').click();
        // Signed in from the session's address, the session opens.
        await page.getByTestId('chat-panel').getByTestId('document-card').waitFor();
        assert.equal(new URL(page.url()).pathname, `/s/${aliceSession}`);
        assert.equal(await textOf(page.getByTestId('account-name')), 'alice');
      });

      await scenario('phone width, dark theme: the sign-in page fits, and the account menu is a button in the top bar', async () => {
        const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'dark', isMobile: true, hasTouch: true });
        const small = await phone.newPage();
        watch(small, 'phone');
        try {
          await small.goto(backend.url);
          await small.getByTestId('signin-page').waitFor();
          const overflow = await small.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          assert.equal(overflow, 0, 'no sideways scrolling');
          await saveShot(small, 'auth-08-phone-signin-dark');
          await small.getByLabel('Username').fill(BOB.username);
          await small.getByLabel('Password', { exact: true }).fill(BOB.password);
          await small.getByTestId('auth-submit').click();
          await small.getByTestId('welcome').waitFor();
          // Only the initial shows on a phone; the name is in the menu.
          assert.equal(await small.getByTestId('account-name').isVisible(), false);
          await small.getByTestId('account-button').click();
          await small.getByRole('menu', { name: 'Account' }).waitFor();
          await small.waitForTimeout(250);
          assert.match(await textOf(small.getByRole('menu', { name: 'Account' })), /Signed in as\s*bob/);
          await saveShot(small, 'auth-09-phone-account-menu-dark');
        } finally {
          await phone.close();
        }
      });

      await scenario('no unexpected errors in the browser console', async () => {
        assert.deepEqual(consoleProblems, []);
      });
    },
    // The harness turns the rate limits off; the sign-in attempts per account are what this script tries.
    { env: { AUTH_MODE: 'password', SIGNUP_OPEN: 'true', SIGNIN_ATTEMPTS_PER_ACCOUNT_15MIN: String(SIGN_IN_TRIES) } },
  );
}

await finish(main, 'the sign-in browser tests');
