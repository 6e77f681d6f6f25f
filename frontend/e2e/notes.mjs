// Browser tests of the producer directing the team: real headless Chromium against the real backend
// (offline model), started here like in run.mjs. A direction chip on the start page, a note sent
// through the composer while the team works (queued, then taken in a round of the writers' room),
// and after the run a revision ("make it funnier") that makes the pitch's next version.
// Usage: `npm run e2e:notes` (builds dist/ first if it is missing; E2E_BUILD=1 forces a build).
// Screenshots go to test-results/screenshots/ (named notes-*, next to run.mjs's).
import assert from 'node:assert/strict';

import { shot as saveShot, SLOW_MS, textOf, until, suite, withStack } from './harness.mjs';

const { scenario, finish } = suite();
const consoleProblems = [];


function watch(page, label) {
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleProblems.push(`[${label}] ${msg.text()}`);
  });
  page.on('pageerror', (err) => consoleProblems.push(`[${label}] page error: ${err.message}`));
}

const shot = (page, name) => saveShot(page, `notes-${name}`);

async function main() {
  // Slow chunks leave time to say a note while the writers' room works.
  await withStack('notes', SLOW_MS, async ({ backend, browser }) => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
    const page = await context.newPage();
    watch(page, 'desktop');
    let sessionId = '';
    const runs = page.locator('[data-testid="run"]');
    const lastRun = () => runs.last();
    const notesInChat = page.getByTestId('chat-panel').getByTestId('producer-note');
    /** No run at work any more, and the last one finished. */
    const allDone = async (timeout = 120_000) => {
      await until('every run to finish', async () => (await page.getByTestId('stop-button').count()) === 0 && (await lastRun().getAttribute('data-status')) === 'completed', { timeout, interval: 250 });
    };

    await scenario('the start page offers direction chips; "Thriller" goes with "Ada Lovelace" and the run starts', async () => {
      await page.goto(backend.url);
      await page.getByTestId('welcome').waitFor();
      const chips = page.getByRole('group', { name: 'Direction' });
      assert.deepEqual(await chips.getByRole('button').allTextContents(), ['Drama', 'Thriller', 'Comedy', 'Family', 'Darker', 'Lighter']);
      const thriller = chips.getByRole('button', { name: 'Thriller', exact: true });
      assert.equal(await thriller.getAttribute('aria-pressed'), 'false');
      await thriller.click();
      assert.equal(await thriller.getAttribute('aria-pressed'), 'true');
      await page.getByTestId('composer-input').fill('Ada Lovelace');
      await shot(page, '01-welcome-thriller');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/s\/[0-9a-f-]{36}$/);
      sessionId = page.url().split('/').pop();
      await page.getByTestId('stop-button').waitFor({ timeout: 10000 });
      assert.deepEqual(await page.getByTestId('user-message').allTextContents(), ['Ada Lovelace']);
      assert.match(await textOf(page.getByTestId('message-direction').first()), /thriller/);
      // The chips were cleared once sent.
      assert.equal(await page.getByRole('group', { name: 'Direction' }).getByRole('button', { name: 'Thriller', exact: true }).getAttribute('aria-pressed'), 'false');
    });

    await scenario('during the run the composer takes a note: "make it darker" shows in the chat, queued, then taken in a round', async () => {
      const box = page.getByTestId('composer-input');
      await until('the composer to take notes', async () => (await box.getAttribute('placeholder')) === "Note for the writers' room", { timeout: 10000 });
      assert.equal(await textOf(page.getByTestId('send-button')), 'Send note');
      // Said while the screenwriter drafts round 1, so the writers' room takes it at round 2.
      await page.locator('[data-testid="phase-screenwriter"] [data-testid="agent-text"][data-streaming="true"]').first().waitFor({ timeout: 30000 });
      await box.fill('make it darker');
      await page.keyboard.press('Enter');
      const note = notesInChat.filter({ hasText: 'make it darker' });
      await note.waitFor({ timeout: 5000 });
      assert.match(await textOf(note), /Note for the writers' room/);
      await until('the server to acknowledge the note', async () => (await note.getAttribute('data-status')) !== 'sending', { timeout: 10000 });
      assert.match(await textOf(note.getByTestId('note-status')), /^(queued|taken in round \d+)$/);
      await shot(page, '02-note-queued');
      await until('the note to be taken in a round', async () => /taken in round \d+|addressed/.test(await textOf(note.getByTestId('note-status'))), { timeout: 60000, interval: 200 });
      await shot(page, '03-note-taken');
      // The team panel lists the note on the round that took it.
      const roundNote = page.getByTestId('panel-team').getByTestId('round-note').filter({ hasText: 'make it darker' });
      await roundNote.first().waitFor({ timeout: 60000 });
      // The critic judges it in that round (a note said too late for the writers' room is applied
      // by a run of its own, right after).
      await until('the critic to judge the note', async () => ['addressed', 'not_addressed'].includes(await note.getAttribute('data-status')), { timeout: 120_000, interval: 250 });
      await allDone();
      assert.match(await textOf(note.getByTestId('note-status')), /^(addressed|not addressed)$/);
      assert.ok((await textOf(note.getByTestId('note-verdict'))).length > 'Critic:'.length, "the critic's words are shown");
      assert.match(await textOf(roundNote.last().getByTestId('round-note-status')), /^(Addressed|Not addressed)$/);
      await page.getByTestId('panel-team').evaluate((el) => el.scrollTo(0, 0));
      await shot(page, '04-note-judged');
    });

    await scenario('the story tab shows the direction and the producer\'s notes with their verdicts', async () => {
      await page.getByTestId('tab-story').last().click();
      assert.match(await textOf(page.getByTestId('story-direction')), /thriller/i);
      const note = page.getByTestId('story-note').filter({ hasText: 'make it darker' });
      await note.waitFor();
      assert.ok(['addressed', 'not_addressed'].includes(await note.getAttribute('data-status')));
      await shot(page, '05-story-notes');
    });

    await scenario('after the run, "make it funnier" revises the pitch: Version 2 in the documents, with its note', async () => {
      await allDone();
      const followUps = await page.getByTestId('follow-up').count(); // a note said too late makes a run of its own
      const box = page.getByTestId('composer-input');
      assert.notEqual(await box.getAttribute('placeholder'), "Note for the writers' room");
      await box.fill('make it funnier');
      await page.keyboard.press('Enter');
      await page.getByTestId('stop-button').waitFor({ timeout: 10000 });
      await until('the revision to start', async () => (await page.getByTestId('user-message').allTextContents()).includes('make it funnier'), { timeout: 10000 });
      await allDone();
      await lastRun().getByTestId('document-card').waitFor({ timeout: 10000 });
      const expected = `Version ${2 + followUps}`;
      assert.match(await textOf(lastRun().getByTestId('document-card')), new RegExp(`· ${expected}(?!\\d)`));
      // The revision passed over what no note concerned: preproduction kept its reports.
      await page.getByTestId('tab-team').last().click();
      assert.match(await textOf(page.getByTestId('run-revision')), /Revision \d+/);
      assert.equal(await page.getByTestId('lane-casting_agent').getAttribute('data-kept'), 'true');
      assert.match(await textOf(page.getByTestId('lane-casting_agent')), /kept its report/i);
      await shot(page, '06-revision-team');
      await page.getByTestId('tab-docs').last().click();
      const revised = page.getByTestId('documents-list').getByTestId('document-version').filter({ has: page.getByTestId('version-notes').filter({ hasText: /funnier/i }) });
      await revised.first().waitFor({ timeout: 15000 });
      assert.equal(await textOf(revised.first().getByTestId('version-label')), expected);
      assert.match(await textOf(revised.first().getByTestId('version-notes')), /^Revision \d+ · “.*funnier.*”/i);
      assert.ok((await page.getByTestId('version-label').allTextContents()).includes('Version 1'));
      const pitches = (await backend.api(`/api/v1/sessions/${sessionId}/pitches`)).body;
      const versions = pitches.flatMap((p) => p.versions);
      const newest = versions.find((v) => v.notes.some((n) => /funnier/i.test(n)));
      assert.ok(newest && newest.revision >= 1 && `Version ${newest.version + 1}` === expected, `the server lists the note with the version: ${JSON.stringify(versions)}`);
      await shot(page, '07-documents-version-2');
    });

    await scenario('reloading shows the notes and their verdicts from the history', async () => {
      await page.reload();
      const note = page.getByTestId('chat-panel').getByTestId('producer-note').filter({ hasText: 'make it darker' });
      await note.waitFor({ timeout: 10000 });
      assert.ok(['addressed', 'not_addressed'].includes(await note.getAttribute('data-status')));
      assert.equal(await notesInChat.filter({ hasText: 'make it darker' }).count(), 1, 'the note shows once');
      await shot(page, '08-reloaded');
    });

    await scenario('no errors in the browser console', async () => {
      assert.deepEqual(consoleProblems, []);
    });
  });
}

await finish(main, 'note tests');
