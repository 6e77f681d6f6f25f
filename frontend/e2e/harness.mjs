// Shared by the browser tests (run.mjs, notes.mjs, branches.mjs): the backend they start
// (`agente-films serve` on the offline model, a throwaway database, a free port), the whole stack
// with Chromium, waiting helpers and screenshots.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { startWikipediaStub } from './wikipedia-stub.mjs';

export const FRONTEND = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SERVER_BIN = path.resolve(FRONTEND, '../.venv/bin/agente-films');
export const DIST = path.join(FRONTEND, 'dist');
export const SHOTS = path.join(FRONTEND, 'test-results', 'screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const NO_RATE_LIMITS = Object.fromEntries(
  ['RATE_LIMIT_IP_PER_MINUTE', 'RATE_LIMIT_USER_PER_HOUR', 'RATE_LIMIT_RUNS_PER_USER_HOUR', 'MAX_CONCURRENT_RUNS_PER_USER',
    'MAX_SOCKETS_PER_USER', 'SIGNIN_ATTEMPTS_PER_ACCOUNT_15MIN', 'SIGNIN_ATTEMPTS_PER_IP_HOUR'].map((name) => [name, '0']),
);
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
export const FAST_MS = 25;
export const SLOW_MS = 80;

// -- helpers -----------------------------------------------------------------------------------

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function log(line) {
  process.stdout.write(`${line}\n`);
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function until(what, check, { timeout = 20_000, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await sleep(interval);
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? ` (${last.message})` : ''}`);
}

/** The backend process: `agente-films serve`, with its own database, artifacts and settings. */
export class Backend {
  constructor({ port, dir, wikipediaUrl, extraEnv = {} }) {
    this.port = port;
    this.dir = dir;
    this.wikipediaUrl = wikipediaUrl;
    this.extraEnv = extraEnv;
    this.proc = null;
    this.output = [];
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(chunkDelayMs) {
    const env = {};
    // A developer's model and sign-in settings must not leak in: these tests run on the offline model,
    // in AUTH_MODE=none unless a script asks for more.
    for (const [key, value] of Object.entries(process.env)) {
      if (!/^(LLM_|LITELLM_|AGENT_MODELS|REDIS_URL|DATABASE_URL|ARTIFACTS_DIR|FRONTEND_DIST|WIKIPEDIA_|OFFLINE_|BUDGET_|AUTH_MODE|SIGNUP_OPEN)/.test(key)) env[key] = value;
    }
    Object.assign(env, {
      DATABASE_URL: `sqlite+aiosqlite:///${path.join(this.dir, 'e2e.db')}`,
      ARTIFACTS_DIR: path.join(this.dir, 'artifacts'),
      FRONTEND_DIST: DIST,
      OFFLINE_CHUNK_DELAY_MS: String(chunkDelayMs),
      LLM_MODEL: 'offline',
      WIKIPEDIA_BASE_URL: this.wikipediaUrl,
      LOG_LEVEL: 'warning',
      // One address and one user drive every scenario: the rate limits are off unless a script sets one.
      ...NO_RATE_LIMITS,
      ...this.extraEnv,
    });
    this.proc = spawn(SERVER_BIN, ['serve', '--host', '127.0.0.1', '--port', String(this.port)], { cwd: this.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk) => {
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.shift();
    };
    this.proc.stdout.on('data', keep);
    this.proc.stderr.on('data', keep);
    const proc = this.proc;
    await until('the backend /health', async () => {
      if (proc.exitCode !== null) throw new Error(`the backend exited with ${proc.exitCode}:\n${this.output.join('')}`);
      const response = await fetch(`${this.url}/health`);
      return response.ok;
    }, { timeout: 60_000, interval: 200 });
  }

  async stop(signal = 'SIGTERM') {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 8000);
    await exited;
    clearTimeout(timer);
  }

  async api(pathname, init) {
    const response = await fetch(`${this.url}${pathname}`, init);
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }
}

export async function shot(page, name) {
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

export async function textOf(locator) {
  return ((await locator.textContent()) ?? '').trim();
}

/** What a browser test needs before it starts: the installed backend, Chromium, and a build of dist/. */
export function preflight() {
  if (!existsSync(SERVER_BIN)) throw new Error(`The backend is not installed: ${SERVER_BIN} is missing (run \`make install\` at the repo root).`);
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH).`);
  if (process.env.E2E_BUILD === '1' || !existsSync(path.join(DIST, 'index.html'))) {
    log('building the frontend (npm run build)…');
    const build = spawnSync('npm', ['run', 'build'], { cwd: FRONTEND, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('npm run build failed');
  }
}

/**
 * A script's scenarios: each runs whatever failed before it, and its outcome is counted.
 * `finish(main, what)` runs the script's `main` (setup failures count too), prints the tally and
 * exits with it, so `npm run e2e` fails when any scenario did.
 */
export function suite() {
  const results = [];
  async function scenario(name, fn) {
    const started = Date.now();
    try {
      await fn();
      results.push({ name, ok: true });
      log(`  ✓ ${name} (${Date.now() - started} ms)`);
    } catch (err) {
      results.push({ name, ok: false, err });
      log(`  ✗ ${name} (${Date.now() - started} ms)\n      ${String(err?.stack ?? err).split('\n').slice(0, 6).join('\n      ')}`);
    }
  }
  async function finish(main, what) {
    const started = Date.now();
    try {
      await main();
    } catch (err) {
      results.push({ name: 'setup', ok: false, err });
      log(`  ✗ setup: ${err?.stack ?? err}`);
    }
    const passed = results.filter((r) => r.ok).length;
    const failed = results.length - passed;
    log(`\nscreenshots: ${SHOTS}`);
    log(`${what} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    log(`${passed} passed, ${failed} failed`);
    process.exit(failed === 0 ? 0 : 1);
  }
  return { scenario, finish };
}

/**
 * The stack a browser script runs against: a Wikipedia stub, the real backend (offline model at
 * `chunkMs` a chunk, a throwaway directory named after the script) and headless Chromium.
 * `body({ backend, browser })` runs the scenarios; everything is stopped afterwards, on Ctrl-C too.
 * `env` adds to the backend's environment (e.g. { AUTH_MODE: 'password', SIGNUP_OPEN: 'true' }).
 */
export async function withStack(name, chunkMs, body, { env = {} } = {}) {
  preflight();
  mkdirSync(SHOTS, { recursive: true }); // an earlier script may have filled it: keep its screenshots
  const dir = mkdtempSync(path.join(tmpdir(), `agente-films-e2e-${name}-`));
  const wikipedia = await startWikipediaStub();
  const backend = new Backend({ port: await freePort(), dir, wikipediaUrl: wikipedia.url, extraEnv: env });
  let browser;
  const cleanup = async () => {
    await browser?.close().catch(() => {});
    await backend.stop().catch(() => {});
    await wikipedia.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    log(`starting the backend on ${backend.url} (offline model, ${chunkMs} ms per chunk${Object.keys(env).length ? `, ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''})…`);
    await backend.start(chunkMs);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    await body({ backend, browser });
  } finally {
    await cleanup();
  }
}
