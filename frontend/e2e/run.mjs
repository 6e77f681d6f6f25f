// Browser tests: real headless Chromium against the real backend (offline model), which this script
// starts itself on a free port with a throwaway database. Usage: `npm run e2e` (builds dist/ first if
// it is missing; E2E_BUILD=1 forces a build). Screenshots go to test-results/screenshots/.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { chromium } from 'playwright-core';

import { Backend, CHROMIUM, CHROMIUM_ARGS, FAST_MS, freePort, log, preflight, SHOTS, shot, SLOW_MS, sleep, textOf, until, suite } from './harness.mjs';
import { startWikipediaStub } from './wikipedia-stub.mjs';

// -- the run -----------------------------------------------------------------------------------

const { scenario, finish } = suite();
const consoleProblems = [];
let allowNetworkErrors = false;
let allowNotFound = false;


function watch(page, label) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error' && msg.type() !== 'warning') return;
    const text = msg.text();
    const network = /ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE|WebSocket connection to .* failed|Failed to load resource/.test(text);
    const notFound = /status of 404/.test(text);
    if (msg.type() === 'error' && !(network && allowNetworkErrors) && !(notFound && allowNotFound)) consoleProblems.push(`[${label}] ${text}`);
  });
  page.on('pageerror', (err) => consoleProblems.push(`[${label}] page error: ${err.message}`));
}

async function main() {
  preflight();
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });

  const dir = mkdtempSync(path.join(tmpdir(), 'agente-films-e2e-'));
  const wikipedia = await startWikipediaStub();
  const backend = new Backend({ port: await freePort(), dir, wikipediaUrl: wikipedia.url });
  // A second server whose LLM budget is used up from the start: every run fails, as with a broken model.
  mkdirSync(path.join(dir, 'broke'));
  const broke = new Backend({ port: await freePort(), dir: path.join(dir, 'broke'), wikipediaUrl: wikipedia.url, extraEnv: { BUDGET_PER_SESSION_USD: '0' } });
  let browser;
  const cleanup = async () => {
    await browser?.close().catch(() => {});
    await backend.stop().catch(() => {});
    await broke.stop().catch(() => {});
    await wikipedia.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

  try {
    log(`starting the backend on ${backend.url} (offline model, ${FAST_MS} ms per chunk), and one with no LLM budget on ${broke.url}…`);
    await Promise.all([backend.start(FAST_MS), broke.start(FAST_MS)]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true, colorScheme: 'light' });
    const page = await context.newPage();
    watch(page, 'desktop');
    let sessionUrl = '';
    let sessionId = '';

    log('desktop, light theme');
    await scenario('AUTH_MODE=none opens straight into the studio: the start page explains itself, shows the offline model badge', async () => {
      await page.goto(backend.url);
      await page.getByTestId('welcome').waitFor();
      // AUTH_MODE=none (what `make run` uses): straight into the studio, no sign-in, no account menu.
      assert.equal(await page.getByTestId('signin-page').count(), 0);
      assert.equal(await page.getByTestId('account-menu').count(), 0);
      const badge = page.getByTestId('model-badge');
      assert.equal(await badge.getAttribute('data-offline'), 'true');
      assert.match(await badge.getAttribute('href'), /#using-a-real-model$/);
      assert.match(await textOf(page.locator('[role="tooltip"]').first()), /LLM_MODEL/);
      await shot(page, '01-welcome');
    });

    await scenario('a pitch streams live: the greeter, the rounds of the writers room, both lanes, the document', async () => {
      await page.getByTestId('composer-input').fill('Ada Lovelace');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/s\/[0-9a-f-]{36}$/);
      sessionUrl = page.url();
      sessionId = sessionUrl.split('/').pop();
      // Text grows chunk by chunk in one element while it streams.
      const lengths = await page.evaluate(async () => {
        let seen = [];
        const deadline = Date.now() + 20000;
        let target = null;
        while (Date.now() < deadline && seen.length < 6) {
          target ??= document.querySelector('[data-testid="agent-text"][data-streaming="true"]');
          if (target) {
            if (target.getAttribute('data-streaming') !== 'true' || !target.isConnected) {
              // That message ended before we saw enough of it: follow the next one.
              target = null;
              if (seen.length < 3) seen = [];
              else break;
              continue;
            }
            const n = target.textContent.length;
            if (n !== seen[seen.length - 1]) seen.push(n);
          }
          await new Promise((r) => setTimeout(r, 30));
        }
        return seen;
      });
      assert.ok(lengths.length >= 3, `expected streamed text to grow, saw lengths ${JSON.stringify(lengths)}`);
      assert.ok(lengths.every((n, i) => i === 0 || n > lengths[i - 1]), `text should only grow: ${lengths}`);
      await page.getByTestId('active-agent').first().waitFor({ timeout: 5000 });
      await page.getByTestId('run-usage').waitFor({ timeout: 5000 });
      assert.match(await textOf(page.getByTestId('run-usage')), /tokens in \d+ model calls?/);
      await shot(page, '02-writers-room-live');
      const rounds = page.getByTestId('round-label');
      await until('round 2 of 5', async () => (await rounds.allTextContents()).includes('Round 2 of 5'));
      assert.deepEqual((await rounds.allTextContents()).slice(0, 2), ['Round 1 of 5', 'Round 2 of 5']);
      assert.equal(await page.locator('[data-testid="round"][data-round="1"]').getAttribute('data-verdict'), 'revise');
      await page.locator('[data-testid="lane-box_office_researcher"][data-status="running"]').waitFor({ timeout: 15000 });
      assert.equal(await page.getByTestId('lane-casting_agent').getAttribute('data-status'), 'running');
      await page.getByTestId('panel-team').evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await shot(page, '03-preproduction-lanes');
      const card = page.getByTestId('chat-panel').getByTestId('document-card');
      await card.waitFor({ timeout: 30000 });
      await page.locator('[data-testid="run"][data-status="completed"]').waitFor({ timeout: 15000 });
      assert.match(await textOf(page.getByTestId('lane-box_office_researcher')), /Box-office outlook/);
      assert.match(await textOf(page.getByTestId('lane-casting_agent')), /Casting ideas/);
      assert.equal(await page.locator('[data-testid="round"][data-round="2"]').getAttribute('data-verdict'), 'approved');
      await page.getByTestId('panel-team').evaluate((el) => el.scrollTo(0, 0));
      await shot(page, '04-pitch-done');
    });

    await scenario('the writers room shows tool calls: Wikipedia titles, state updates, loop exit, the critic reasons', async () => {
      const round1 = page.locator('[data-testid="round"][data-round="1"]');
      await round1.getByRole('button').first().click();
      assert.match(await textOf(round1.getByTestId('wiki-titles')), /Ada Lovelace/);
      await round1.getByTestId('critic-reasons').locator('summary').click();
      assert.match(await textOf(round1.getByTestId('critic-reasons')), /Act II/);
      const search = round1.getByTestId('tool-wikipedia_search');
      await search.locator('summary').click();
      assert.equal(await search.locator('a').first().getAttribute('href'), 'https://en.wikipedia.org/wiki/Ada_Lovelace');
      await page.locator('[data-testid="round"][data-round="2"]').getByTestId('tool-exit_loop').waitFor();
      assert.ok((await page.getByTestId('tool-append_to_state').count()) > 0);
      await shot(page, '05-tool-calls');
    });

    await scenario('the pitch downloads as Markdown and as PDF, from the chat and from the documents list', async () => {
      const card = page.getByTestId('chat-panel').getByTestId('document-card');
      const [md] = await Promise.all([page.waitForEvent('download'), card.getByTestId('download-markdown').click()]);
      const markdown = readFileSync(await md.path(), 'utf8');
      assert.match(md.suggestedFilename(), /\.md$/);
      assert.match(markdown, /## Logline/);
      assert.match(markdown, /## Sources/);
      const [pdf] = await Promise.all([page.waitForEvent('download'), card.getByTestId('download-pdf').click()]);
      assert.match(pdf.suggestedFilename(), /\.pdf$/);
      assert.equal(readFileSync(await pdf.path()).subarray(0, 4).toString('latin1'), '%PDF');
      await page.getByTestId('tab-docs').last().click();
      const doc = page.getByTestId('documents-list').getByTestId('document').first();
      await doc.waitFor();
      const [pdf2] = await Promise.all([page.waitForEvent('download'), doc.getByTestId('download-pdf').first().click()]);
      assert.equal(readFileSync(await pdf2.path()).subarray(0, 4).toString('latin1'), '%PDF');
      await shot(page, '06-documents');
    });

    await scenario('the story tab: current outline, a diff between drafts, research linked to Wikipedia', async () => {
      await page.getByTestId('tab-story').last().click();
      assert.match(await textOf(page.getByTestId('plot-outline')), /Logline:/);
      assert.match(await textOf(page.getByTestId('story-title')), /Ada Lovelace/);
      const diff = page.getByTestId('draft-diff');
      await diff.waitFor();
      assert.ok((await diff.locator('ins').count()) > 0, 'the second draft adds text');
      const source = page.getByTestId('research-source').first();
      assert.match(await source.getAttribute('href'), /^https:\/\/en\.wikipedia\.org\/wiki\//);
      await shot(page, '07-story');
      await page.getByTestId('panel-story').evaluate((el) => el.scrollTo(0, 600));
      await shot(page, '08-story-drafts-diff');
    });

    await scenario('reloading the page shows the same session, conversation and work', async () => {
      await page.reload();
      assert.equal(page.url(), sessionUrl);
      await page.getByTestId('chat-panel').getByTestId('document-card').waitFor();
      assert.deepEqual(await page.getByTestId('user-message').allTextContents(), ['Ada Lovelace']);
      await page.getByTestId('tab-team').last().click();
      assert.deepEqual((await page.getByTestId('round-label').allTextContents()).slice(0, 2), ['Round 1 of 5', 'Round 2 of 5']);
      const item = page.locator(`[data-testid="session-item"][data-session-id="${sessionId}"]`);
      assert.equal(await textOf(item.getByTestId('session-title')), 'Ada Lovelace');
      assert.equal(await item.locator('[data-status]').first().getAttribute('data-status'), 'completed');
      // Greeter text appears once: history and replayed frames are merged, not added up.
      const greeter = page.locator('[data-testid="assistant-message"][data-agent="greeter"]');
      assert.equal(await greeter.count(), 1);
      await shot(page, '09-reloaded');
    });

    await scenario('sessions can be renamed and deleted from the sidebar', async () => {
      const item = page.locator(`[data-testid="session-item"][data-session-id="${sessionId}"]`);
      await item.hover();
      await item.getByRole('button', { name: /^Rename/ }).click();
      await page.getByLabel('Session title').fill('Ada, the first programmer');
      await page.keyboard.press('Enter');
      await until('the new title', async () => (await backend.api(`/api/v1/sessions/${sessionId}`)).body.title === 'Ada, the first programmer');
      await until('the heading to follow', async () => (await textOf(page.getByTestId('session-heading'))) === 'Ada, the first programmer', { timeout: 5000 });
      assert.equal(await textOf(item.getByTestId('session-title')), 'Ada, the first programmer');
      const spare = (await backend.api('/api/v1/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Scratch session' }) })).body;
      await page.reload();
      const scratch = page.locator(`[data-testid="session-item"][data-session-id="${spare.id}"]`);
      await scratch.hover();
      await scratch.getByRole('button', { name: /^Delete/ }).click();
      await shot(page, '10-delete-confirm');
      await page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click();
      await until('the session to go', async () => (await scratch.count()) === 0);
      assert.equal((await backend.api(`/api/v1/sessions/${spare.id}`)).status, 404);
    });

    await scenario('an unknown session shows a readable message, not a blank page', async () => {
      allowNotFound = true; // the browser logs the REST 404s this page gets, as it should
      await page.goto(`${backend.url}/s/00000000-0000-4000-8000-000000000000`);
      await page.getByText('This session does not exist').waitFor();
      assert.equal(await page.getByTestId('composer-input').isDisabled(), true);
      await shot(page, '11-unknown-session');
      await page.goto(backend.url);
      await page.getByTestId('welcome').waitFor();
      allowNotFound = false;
    });

    log(`restarting the backend slower (${SLOW_MS} ms per chunk) for stop and crash tests`);
    await backend.stop();
    await backend.start(SLOW_MS);

    await scenario('a run can be stopped midway; the partial work stays, and meanwhile the composer takes notes', async () => {
      await page.goto(backend.url);
      await page.getByTestId('composer-input').fill('Hypatia of Alexandria');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/s\/[0-9a-f-]{36}$/);
      const id = page.url().split('/').pop();
      await page.locator('[data-testid="phase-screenwriter"] [data-testid="agent-text"][data-streaming="true"]').waitFor({ timeout: 20000 });
      // While the team works the composer stays open: what is sent is a note for the writers' room.
      const box = page.getByTestId('composer-input');
      assert.equal(await box.getAttribute('placeholder'), "Note for the writers' room");
      await box.fill('Make it a musical');
      assert.equal(await page.getByTestId('send-button').isDisabled(), false);
      assert.equal(await textOf(page.getByTestId('send-button')), 'Send note');
      assert.match(await textOf(page.getByTestId('composer-hint')), /note for the writers' room/);
      await sleep(400);
      await shot(page, '12-running-note-mode');
      const partial = await textOf(page.locator('[data-testid="phase-screenwriter"] [data-testid="agent-text"]').first());
      await page.getByTestId('stop-button').click();
      await page.locator('[data-testid="run-status"][data-status="cancelled"]').waitFor({ timeout: 15000 });
      const kept = await textOf(page.locator('[data-testid="phase-screenwriter"] [data-testid="agent-text"]').first());
      assert.ok(kept.length >= partial.length && kept.startsWith(partial.slice(0, 20)), 'the partial draft is kept');
      assert.equal((await backend.api(`/api/v1/sessions/${id}`)).body.status, 'cancelled');
      const history = (await backend.api(`/api/v1/sessions/${id}/history`)).body;
      assert.equal(history.items.length, 1, 'the note typed but not sent was not sent');
      assert.equal(history.items[0].question.run_status, 'cancelled');
      assert.equal(await page.getByTestId('composer-input').inputValue(), 'Make it a musical', 'the unsent text stays in the box');
      await shot(page, '13-stopped');
      await page.reload();
      await page.locator('[data-testid="run-status"][data-status="cancelled"]').waitFor();
      assert.ok((await textOf(page.locator('[data-testid="phase-screenwriter"] [data-testid="agent-text"]').first())).length > 0, 'the partial draft is still there after a reload');
    });

    await scenario('killing the backend mid-run: the page says it is reconnecting, then shows the run as interrupted', async () => {
      await page.goto(backend.url);
      await page.getByTestId('composer-input').fill('Harriet Tubman');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/s\/[0-9a-f-]{36}$/);
      const id = page.url().split('/').pop();
      await page.locator('[data-testid="agent-text"][data-streaming="true"]').first().waitFor({ timeout: 20000 });
      allowNetworkErrors = true;
      await backend.stop('SIGKILL');
      const banner = page.locator('[data-testid="connection-banner"][data-state="reconnecting"]');
      await banner.waitFor({ timeout: 10000 });
      assert.match(await textOf(banner), /Reconnecting/);
      await shot(page, '14-reconnecting');
      await backend.start(SLOW_MS);
      await page.locator('[data-testid="run-status"][data-status="interrupted"]').waitFor({ timeout: 30000 });
      await until('the reconnecting notice to go', async () => (await banner.count()) === 0, { timeout: 15000 });
      allowNetworkErrors = false;
      assert.match(await textOf(page.getByTestId('run-status')), /stopped|interrupted/i);
      assert.equal((await backend.api(`/api/v1/sessions/${id}/history`)).body.items[0].question.run_status, 'interrupted');
      assert.equal(await page.locator('[data-testid="assistant-message"][data-agent="greeter"]').count(), 1, 'no duplicated text after the catch-up');
      await shot(page, '15-interrupted');
      // The session works again: the composer is free.
      assert.equal(await page.getByTestId('stop-button').count(), 0);
    });

    await scenario('the interrupted run resumes from its checkpoint and finishes', async () => {
      await page.getByTestId('resume-button').click();
      await page.getByTestId('stop-button').waitFor({ timeout: 10000 });
      await page.locator('[data-testid="run"][data-status="completed"]').waitFor({ timeout: 60000 });
      await page.getByTestId('chat-panel').getByTestId('document-card').waitFor();
      assert.equal(await page.getByTestId('user-message').count(), 1, 'the resumed run is the same run');
      await shot(page, '16-resumed');
    });

    await scenario('a failing run (the model cannot be called) shows a readable error, not a blank page', async () => {
      const other = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      watch(other, 'failing');
      await other.goto(broke.url);
      await other.getByTestId('composer-input').fill('Ada Lovelace');
      await other.keyboard.press('Enter');
      const status = other.locator('[data-testid="run-status"][data-status="failed"]');
      await status.waitFor({ timeout: 20000 });
      assert.match(await textOf(status), /This run failed/);
      assert.match(await textOf(status), /budget/i);
      assert.equal(await other.getByTestId('composer-input').isDisabled(), false, 'the composer is free again');
      await shot(other, '17-run-failed');
      await other.close();
    });

    log('phone width, dark theme');
    await scenario('phone width and dark theme: tabs for chat, team and story; the sidebar is a drawer', async () => {
      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'dark', isMobile: true, hasTouch: true });
      const mobile = await phone.newPage();
      watch(mobile, 'phone');
      await mobile.goto(sessionUrl);
      await mobile.getByTestId('chat-panel').getByTestId('document-card').waitFor();
      assert.equal(await mobile.evaluate(() => document.documentElement.classList.contains('dark')), true);
      const overflow = await mobile.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no sideways scrolling (overflow ${overflow}px)`);
      await shot(mobile, '18-phone-chat-dark');
      await mobile.getByTestId('tab-team').first().click();
      await mobile.getByTestId('round-label').first().waitFor();
      await shot(mobile, '19-phone-team-dark');
      await mobile.getByTestId('tab-story').first().click();
      await mobile.getByTestId('plot-outline').waitFor();
      await shot(mobile, '20-phone-story-dark');
      await mobile.getByTestId('open-sidebar').click();
      await mobile.getByTestId('session-list').waitFor();
      await sleep(300);
      await shot(mobile, '21-phone-sidebar-dark');
      await phone.close();
    });

    await scenario('the theme toggle switches light and dark', async () => {
      await page.goto(sessionUrl);
      await page.getByTestId('chat-panel').getByTestId('document-card').waitFor();
      const dark = () => page.evaluate(() => document.documentElement.classList.contains('dark'));
      assert.equal(await dark(), false);
      await page.getByTestId('theme-toggle').click();
      assert.equal(await dark(), true);
      await shot(page, '22-desktop-dark');
      await page.reload();
      await page.getByTestId('chat-panel').getByTestId('document-card').waitFor();
      assert.equal(await dark(), true, 'the choice is remembered');
      await page.getByTestId('theme-toggle').click();
      assert.equal(await dark(), false);
    });

    await scenario('no errors in the browser console', async () => {
      assert.deepEqual(consoleProblems, []);
    });
  } finally {
    await cleanup();
  }
}

await finish(main, 'browser tests');
