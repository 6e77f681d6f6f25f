// Counts the API requests (and session sockets) the page makes, in headless Chromium, against a
// running server: opening the studio, opening sessions from the sidebar, reloading a session page,
// running a pitch. The API's rate limit counts /api/... requests and sockets per client address.
//
// Usage: node scripts/count-requests.mjs [base URL] [--setup]
//   --setup first makes 3 sessions with a finished pitch each, through the API.
//   COUNT_DETAIL=1 lists every request of every step.
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const BASE = args.find((a) => !a.startsWith('--')) ?? 'http://127.0.0.1:8093';
const SETUP = args.includes('--setup');
const DETAIL = process.env.COUNT_DETAIL === '1';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const QUIET_MS = Number(process.env.COUNT_QUIET_MS ?? 2000);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function json(path, init) {
  const response = await fetch(`${BASE}${path}`, { headers: { 'content-type': 'application/json' }, ...init });
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

async function setup() {
  for (let i = 0; i < 3; i++) {
    const session = await json('/api/v1/sessions', { method: 'POST', body: '{}' });
    await json(`/api/v1/sessions/${session.id}/messages`, { method: 'POST', body: JSON.stringify({ content: 'Ada Lovelace' }) });
    process.stdout.write(`made session ${session.id}\n`);
  }
}

/** /api/v1/sessions/<uuid>/states/12 -> /sessions/{id}/states/{n} */
function shape(url) {
  const u = new URL(url);
  return u.pathname
    .replace(/^\/api\/v1/, '')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '{id}')
    .replace(/\/\d+(?=\/|$)/g, '/{n}');
}

async function main() {
  if (SETUP) await setup();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  let log = [];
  let last = Date.now();
  let inFlight = 0;
  page.on('request', (request) => {
    if (!new URL(request.url()).pathname.startsWith('/api/')) return;
    log.push(`${request.method()} ${shape(request.url())}`);
    last = Date.now();
    inFlight += 1;
  });
  const done = (request) => {
    if (!new URL(request.url()).pathname.startsWith('/api/')) return;
    inFlight = Math.max(0, inFlight - 1);
    last = Date.now();
  };
  page.on('requestfinished', done);
  page.on('requestfailed', done);
  page.on('websocket', (ws) => {
    if (!new URL(ws.url()).pathname.startsWith('/api/')) return;
    log.push(`WS ${shape(ws.url().replace(/^ws/, 'http'))}`);
    last = Date.now();
  });

  const quiet = async () => {
    await sleep(300);
    while (inFlight > 0 || Date.now() - last < QUIET_MS) await sleep(100);
  };
  const rows = [];
  const step = async (name, fn) => {
    log = [];
    await fn();
    await quiet();
    const counts = new Map();
    for (const line of log) counts.set(line, (counts.get(line) ?? 0) + 1);
    const http = log.filter((l) => !l.startsWith('WS ')).length;
    const ws = log.length - http;
    rows.push({ name, http, ws, counts });
  };

  await step('open the studio', async () => {
    await page.goto(BASE);
    await page.locator('[data-testid="session-item"]').nth(2).waitFor();
  });
  const ids = await page.locator('[data-testid="session-item"]').evaluateAll((els) => els.map((el) => el.getAttribute('data-session-id')));
  const targets = ids.slice(0, 3);
  for (const [i, id] of targets.entries()) {
    await step(`open session ${i + 1} from the sidebar`, async () => {
      await page.locator(`[data-testid="session-item"][data-session-id="${id}"] > button`).click();
      await page.locator(`[data-testid="session-view"][data-session-id="${id}"]`).waitFor();
      await page.getByTestId('user-message').first().waitFor();
    });
  }
  await step('reload a session page', async () => {
    await page.reload();
    await page.getByTestId('user-message').first().waitFor();
  });
  await step('open the Story tab', async () => {
    await page.getByTestId('tab-story').last().click();
    await page.getByTestId('story-panel').waitFor();
  });
  await step('run a pitch (new pitch, until done)', async () => {
    await page.getByTestId('new-session').click();
    await page.getByTestId('composer-input').fill('Grace Hopper');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/s\/[0-9a-f-]{36}$/);
    await page.locator('[data-testid="run"][data-status="completed"]').waitFor({ timeout: 60_000 });
  });
  await browser.close();

  const width = Math.max(...rows.map((r) => r.name.length));
  process.stdout.write(`\n${'step'.padEnd(width)}  api  sockets\n`);
  for (const row of rows) {
    process.stdout.write(`${row.name.padEnd(width)}  ${String(row.http).padStart(3)}  ${String(row.ws).padStart(7)}\n`);
    if (DETAIL) for (const [line, n] of [...row.counts.entries()].sort()) process.stdout.write(`    ${n}× ${line}\n`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
