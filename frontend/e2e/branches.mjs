// Browser tests of branches and edits: real headless Chromium against the real backend (offline
// model), started here like in run.mjs. A pitch for Ada Lovelace; a branch from round 1 in the Team
// panel, nested under its parent in the sidebar, continued with a note to a finished pitch; the
// logline edited by hand in the Story tab (and a stale edit caught); the pitch document regenerated
// and downloaded with the edited logline; two drafts of the parent and the branch compared side by
// side; the last revision undone. Usage: `npm run e2e:branches` (builds dist/ first if it is missing;
// E2E_BUILD=1 forces a build). Screenshots go to test-results/screenshots/ (named branches-*).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { FAST_MS, shot as saveShot, textOf, until, suite, withStack } from './harness.mjs';

const { scenario, finish } = suite();
const consoleProblems = [];
/** 409s the browser logs for the refusals this script provokes on purpose (a stale edit, nothing to undo). */
const conflicts = [];
const LOGLINE = 'A countess bets her name on a machine that no one has built yet.';

function watch(page, label) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (/status of 409/.test(msg.text())) conflicts.push(`[${label}] ${msg.text()}`);
    else consoleProblems.push(`[${label}] ${msg.text()}`);
  });
  page.on('pageerror', (err) => consoleProblems.push(`[${label}] page error: ${err.message}`));
}

const shot = (page, name) => saveShot(page, `branches-${name}`);

async function main() {
  await withStack('branches', FAST_MS, async ({ backend, browser }) => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true, colorScheme: 'light' });
    const page = await context.newPage();
    watch(page, 'desktop');
    let parentId = '';
    let branchId = '';
    const runs = page.locator('[data-testid="run"]');
    const tab = (name) => page.getByTestId(`tab-${name}`).last().click();
    /** No run at work any more, and the last team run finished. */
    const allDone = async (timeout = 120_000) => {
      await until(
        'every run to finish',
        async () => (await page.getByTestId('stop-button').count()) === 0 && (await runs.count()) > 0 && (await runs.last().getAttribute('data-status')) === 'completed',
        { timeout, interval: 250 },
      );
    };
    const api = (pathname, init) => backend.api(pathname, init);
    const json = (method, body) => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    await scenario('a pitch for Ada Lovelace is written', async () => {
      await page.goto(backend.url);
      await page.getByTestId('welcome').waitFor();
      await page.getByTestId('composer-input').fill('Ada Lovelace');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/s\/[0-9a-f-]{36}$/);
      parentId = page.url().split('/').pop();
      await page.getByTestId('stop-button').waitFor({ timeout: 10000 });
      // While the team works, the producer's actions wait and say why.
      const regenerate = page.getByTestId('regenerate-document');
      await regenerate.waitFor({ timeout: 20000 });
      assert.equal(await regenerate.isDisabled(), true);
      assert.match(await regenerate.getAttribute('data-disabled-reason'), /team is at work/);
      const redraft = page.getByTestId('regenerate-writers_room');
      assert.equal(await redraft.isDisabled(), true);
      await page.getByTestId('panel-team').evaluate((el) => el.scrollTo(0, 0));
      await redraft.locator('xpath=..').hover();
      await redraft.locator('xpath=..').getByRole('tooltip').filter({ hasText: /team is at work/ }).waitFor({ state: 'visible', timeout: 5000 });
      await page.waitForTimeout(250); // the tooltip fades in
      await shot(page, '01-disabled-during-run');
      await allDone();
      await page.getByTestId('chat-panel').getByTestId('document-card').waitFor({ timeout: 10000 });
      assert.equal(await regenerate.isDisabled(), false);
    });

    await scenario('"Branch from round 1" in the Team panel makes a branch and opens it', async () => {
      await tab('team');
      const round1 = page.locator('[data-testid="round"][data-round="1"]');
      const button = round1.getByRole('button', { name: 'Branch from round 1' });
      await button.waitFor();
      await shot(page, '02-team-branch-button');
      await button.click();
      await page.waitForURL((url) => /\/s\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(parentId), { timeout: 15000 });
      branchId = page.url().split('/').pop();
      const created = (await api(`/api/v1/sessions/${branchId}`)).body;
      assert.equal(created.parent_id, parentId);
      assert.equal(created.branch_point.round, 1);
      // The header links to the parent and says where the branch starts.
      const origin = page.getByTestId('branch-origin');
      await origin.waitFor({ timeout: 10000 });
      await until('the parent title in the header', async () => /Branch of Ada Lovelace · from round 1/.test(await textOf(origin)), { timeout: 10000 });
      assert.match(await textOf(page.getByTestId('branch-intro')), /A branch of Ada Lovelace, from round 1/);
      // The copied run ends at the branch point, and says so (not "stopped").
      const cut = page.getByTestId('chat-panel').locator('[data-testid="run-status"][data-status="branched"]');
      await cut.waitFor({ timeout: 10000 });
      assert.match(await textOf(cut), /The branch starts at round 1 of this run\./);
      assert.equal(await page.getByTestId('session-heading').locator('xpath=..').locator('[data-status]').count(), 0, 'no "Stopped" pill on a branch that has not run yet');
    });

    await scenario('the sidebar shows the branch under its parent, with the round it branched at', async () => {
      const branchRow = page.locator(`[data-testid="session-item"][data-session-id="${branchId}"]`);
      await branchRow.waitFor({ timeout: 10000 });
      assert.equal(await branchRow.getAttribute('data-parent-id'), parentId);
      assert.equal(await branchRow.getAttribute('data-depth'), '1');
      assert.match(await textOf(branchRow.getByTestId('branch-point')), /Branch from round 1/);
      assert.equal(await branchRow.getAttribute('aria-current'), null);
      assert.equal(await branchRow.getByRole('button').first().getAttribute('aria-current'), 'page');
      // Listed right under its parent.
      const order = await page.getByTestId('session-item').evaluateAll((items) => items.map((el) => el.getAttribute('data-session-id')));
      assert.equal(order.indexOf(branchId), order.indexOf(parentId) + 1, `the branch follows its parent: ${order}`);
      await shot(page, '03-branch-opened');
    });

    await scenario('the branch continues with a note ("make it darker") to a finished pitch', async () => {
      const box = page.getByTestId('composer-input');
      assert.match(await box.getAttribute('placeholder'), /take this branch another way/);
      await box.fill('make it darker');
      await page.keyboard.press('Enter');
      await page.getByTestId('stop-button').waitFor({ timeout: 10000 });
      await until('the note to start a run', async () => (await page.getByTestId('user-message').allTextContents()).includes('make it darker'), { timeout: 10000 });
      await allDone();
      await runs.last().getByTestId('document-card').waitFor({ timeout: 10000 });
      await tab('story');
      await until('the darker direction', async () => /dark/i.test(await textOf(page.getByTestId('story-panel'))), { timeout: 10000 });
      await tab('team');
      await shot(page, '04-branch-continued');
    });

    await scenario('the logline is edited by hand in the Story tab: saved, marked as yours, one line in the chat', async () => {
      await tab('story');
      await page.getByTestId('edit-button').click();
      const box = page.getByTestId('outline-textarea');
      const before = await box.inputValue();
      assert.match(before, /^\*\*Title:\*\*/);
      const after = before.replace(/\*\*Logline:\*\*[^\n]*/, `**Logline:** ${LOGLINE}`);
      assert.notEqual(after, before);
      await box.fill(after);
      assert.match(await textOf(page.getByTestId('editor-changes')), /You change: Logline/);
      await page.getByTestId('editor-tab-preview').click();
      assert.match(await textOf(page.getByTestId('outline-preview')), new RegExp(LOGLINE));
      await shot(page, '05-editor-preview');
      await page.getByTestId('editor-tab-write').click();
      await page.getByTestId('editor-save').click();
      const saved = page.getByTestId('edit-saved');
      await saved.waitFor({ timeout: 10000 });
      assert.match(await textOf(saved), /Saved as version \d+: you edited Logline/);
      const logline = page.locator('[data-testid="outline-section"][data-section="Logline"]');
      assert.equal(await logline.getAttribute('data-producer'), 'true');
      assert.match(await textOf(logline), new RegExp(LOGLINE));
      const line = page.getByTestId('chat-panel').getByTestId('producer-change').last();
      await line.waitFor({ timeout: 10000 });
      assert.match(await textOf(line), /^You edited Logline/);
      const state = (await api(`/api/v1/sessions/${branchId}/state`)).body;
      assert.deepEqual(state.state.producer_edits.sections, ['Logline']);
      await shot(page, '06-edited-logline');
    });

    await scenario('an edit made on an old version is caught: the current version is shown, reloaded, and the edit redone', async () => {
      await page.getByTestId('edit-button').click();
      const box = page.getByTestId('outline-textarea');
      const base = Number(await page.getByTestId('outline-editor').getAttribute('data-base-version'));
      // Meanwhile (another tab), the direction changes.
      const moved = await api(`/api/v1/sessions/${branchId}/state`, json('PATCH', { expected_version: base, changes: { direction: 'darker, for adults' } }));
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      const text = (await box.inputValue()).replace(/(\*\*Act I:[^\n]*?\.\*\*)/, '$1 On a stormy night,');
      await box.fill(text);
      await page.getByTestId('editor-save').click();
      const stale = page.getByTestId('editor-stale');
      await stale.waitFor({ timeout: 10000 });
      assert.equal(await textOf(page.getByTestId('stale-current')), String(moved.body.version));
      await shot(page, '07-stale-edit');
      await page.getByTestId('editor-reload').click();
      await until('the editor to take the current version', async () => Number(await page.getByTestId('outline-editor').getAttribute('data-base-version')) === moved.body.version, { timeout: 10000 });
      assert.equal(await page.getByTestId('direction-input').inputValue(), 'darker, for adults');
      await box.fill((await box.inputValue()).replace(/(\*\*Act I:[^\n]*?\.\*\*)/, '$1 On a stormy night,'));
      await page.getByTestId('editor-save').click();
      await page.getByTestId('edit-saved').waitFor({ timeout: 10000 });
      assert.match(await textOf(page.getByTestId('edit-saved')), /you edited Act I/);
      const sections = await page.locator('[data-testid="outline-section"][data-producer="true"]').evaluateAll((els) => els.map((el) => el.getAttribute('data-section')));
      assert.deepEqual(sections, ['Logline', 'Act I']);
    });

    await scenario('regenerating the pitch document saves the next version, and its Markdown has the edited logline', async () => {
      await tab('team');
      const versionsBefore = (await api(`/api/v1/sessions/${branchId}/pitches`)).body.flatMap((p) => p.versions).length;
      await page.getByTestId('regenerate-document').click();
      await page.getByTestId('stop-button').waitFor({ timeout: 10000 });
      await allDone();
      const last = runs.last();
      await last.getByTestId('regenerate-line').waitFor({ timeout: 5000 });
      assert.match(await textOf(last.getByTestId('regenerate-line')), /redo the pitch document/);
      await last.getByTestId('document-card').waitFor({ timeout: 10000 });
      assert.match(await textOf(page.getByTestId('panel-team').locator('h2').first()), /Regenerate the pitch document/);
      await shot(page, '08-regenerated-document');
      await tab('docs');
      const versions = page.getByTestId('documents-list').getByTestId('document-version');
      await until('the new version in the documents', async () => (await versions.count()) === versionsBefore + 1, { timeout: 10000 });
      const newest = versions.first();
      const [download] = await Promise.all([page.waitForEvent('download'), newest.getByTestId('download-markdown').click()]);
      const markdown = readFileSync(await download.path(), 'utf8');
      assert.ok(markdown.includes(LOGLINE), `the downloaded pitch has the edited logline:\n${markdown.slice(0, 600)}`);
      await shot(page, '09-documents');
    });

    await scenario('two drafts, of the parent and of the branch, compare side by side and download', async () => {
      await tab('story');
      const compare = page.getByTestId('version-compare');
      await compare.scrollIntoViewIfNeeded();
      const a = page.getByTestId('compare-a');
      await until('the parent\'s drafts in the picker', async () => (await a.locator('optgroup[label^="Parent · Ada Lovelace"] option').count()) > 0, { timeout: 15000 });
      const parentDraft = await a.locator('optgroup[label="Parent · Ada Lovelace — drafts"] option').last().getAttribute('value');
      assert.match(parentDraft, new RegExp(`^draft:${parentId}:\\d+$`));
      await a.selectOption(parentDraft);
      const b = page.getByTestId('compare-b');
      const mine = await b.locator('optgroup[label="This session — drafts"] option').last().getAttribute('value');
      await b.selectOption(mine);
      const left = page.getByTestId('diff-side-a');
      const right = page.getByTestId('diff-side-b');
      await right.waitFor({ timeout: 10000 });
      assert.match(await textOf(left.getByTestId('diff-side-label')), /Parent · Ada Lovelace/);
      assert.match(await textOf(right.getByTestId('diff-side-label')), /This session · Draft \d+ · your edit/);
      const side = async (which) => (await page.getByTestId(`diff-cell-${which}`).allTextContents()).join('\n');
      assert.ok(!(await side('a')).includes(LOGLINE), "the parent's draft has the screenwriter's logline");
      assert.ok((await side('b')).includes(LOGLINE), "the branch's draft has the edited logline");
      assert.ok((await page.getByTestId('diff-cell-b').locator('ins').count()) > 0 && (await page.getByTestId('diff-cell-a').locator('del').count()) > 0, 'the word diff marks both sides');
      // The logline faces the logline.
      const loglineRow = await page.getByTestId('diff-cell-b').evaluateAll((cells, logline) => cells.findIndex((c) => c.textContent.includes(logline)), LOGLINE);
      assert.match(await textOf(page.getByTestId('diff-cell-a').nth(loglineRow)), /^\*\*Logline:\*\*/);
      const boxes = await Promise.all([left.boundingBox(), right.boundingBox()]);
      assert.ok(boxes[1].x >= boxes[0].x + boxes[0].width - 1 && Math.abs(boxes[1].y - boxes[0].y) < 2, `two columns side by side: ${JSON.stringify(boxes)}`);
      const [download] = await Promise.all([page.waitForEvent('download'), left.getByTestId('diff-download').click()]);
      assert.match(readFileSync(await download.path(), 'utf8'), /\*\*Title:\*\*/);
      await compare.scrollIntoViewIfNeeded();
      await shot(page, '10-compare-side-by-side');
      await page.getByTestId('compare-mode-inline').click();
      assert.equal(await page.getByTestId('draft-diff').getAttribute('data-mode'), 'inline');
      await shot(page, '11-compare-inline');
      await page.getByTestId('compare-mode-side').click();
    });

    await scenario('"Undo last revision" takes back the regeneration in place; then, where nothing is left, says so gently', async () => {
      await page.getByTestId('story-panel').evaluate((el) => el.closest('[data-testid^="panel-"]').scrollTo(0, 0));
      await page.getByTestId('undo-button').click();
      const message = page.getByTestId('undo-message');
      await message.waitFor({ timeout: 10000 });
      assert.equal(await message.getAttribute('data-tone'), 'success', await textOf(message));
      assert.match(await textOf(message), /Undid the regeneration/);
      await until('the undo line in the chat', async () => /^You undid the regeneration/.test(await textOf(page.getByTestId('producer-change').last())), { timeout: 10000 });
      await shot(page, '12-undone');
      // The regenerated document stays, marked as undone.
      await tab('docs');
      const undone = page.getByTestId('documents-list').getByTestId('document-version').filter({ has: page.getByTestId('version-undone') });
      await until('the regenerated version to be marked undone', async () => (await undone.count()) === 1, { timeout: 10000 });
      assert.equal(await textOf(undone.getByTestId('version-label')), 'Version 2');
      // In the parent: its first pitch cannot be undone.
      await page.getByTestId('branch-parent-link').click();
      await page.waitForURL(new RegExp(`/s/${parentId}$`));
      await tab('story');
      await page.getByTestId('undo-button').click();
      await page.getByTestId('undo-message').waitFor({ timeout: 10000 });
      assert.equal(await page.getByTestId('undo-message').getAttribute('data-tone'), 'info');
      assert.match(await textOf(page.getByTestId('undo-message')), /^Nothing to undo/);
      await shot(page, '13-parent-nothing-to-undo');
    });

    await scenario('on a phone the sidebar drawer nests the branch too; drafts and the compare view in the dark theme', async () => {
      const phone = await context.newPage();
      watch(phone, 'phone');
      await phone.setViewportSize({ width: 390, height: 844 });
      await phone.goto(`${backend.url}/s/${branchId}`);
      await phone.getByTestId('branch-origin').waitFor();
      await phone.getByTestId('open-sidebar').click();
      await phone.locator(`[data-testid="session-item"][data-session-id="${branchId}"][data-depth="1"]`).waitFor();
      await phone.waitForTimeout(400); // the drawer slides in
      await saveShot(phone, 'branches-14-phone-sidebar');
      await phone.keyboard.press('Escape');
      await phone.emulateMedia({ colorScheme: 'dark' });
      await phone.getByTestId('tab-story').first().click();
      await phone.getByTestId('version-compare').scrollIntoViewIfNeeded();
      await saveShot(phone, 'branches-15-phone-compare-dark');
      await phone.getByTestId('draft-list').scrollIntoViewIfNeeded();
      await saveShot(phone, 'branches-16-phone-drafts-dark');
      await phone.close();
    });

    await scenario('no errors in the browser console (but the two refusals provoked on purpose)', async () => {
      assert.deepEqual(consoleProblems, []);
      assert.equal(conflicts.length, 2, conflicts.join('\n'));
    });
  });
}

await finish(main, 'branch tests');
