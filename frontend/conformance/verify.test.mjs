// Run with: cd frontend && node --test conformance/
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { parseEventsText, runHttpAgent, verifyStream } from './verify.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(HERE, 'verify.mjs');

const runStarted = { type: 'RUN_STARTED', threadId: 't1', runId: 'r1' };
const runFinished = { type: 'RUN_FINISHED', threadId: 't1', runId: 'r1' };
const minimal = [
  runStarted,
  { type: 'TEXT_MESSAGE_START', messageId: 'm1', role: 'assistant' },
  { type: 'TEXT_MESSAGE_CONTENT', messageId: 'm1', delta: 'Hello' },
  { type: 'TEXT_MESSAGE_END', messageId: 'm1' },
  runFinished,
];

describe('verifyStream', () => {
  test('accepts a minimal valid stream', async () => {
    const result = await verifyStream(minimal);
    assert.deepEqual(result, { ok: true, schemaErrors: [], verifyError: null, verifyErrorIndex: null, count: 5 });
  });

  test('accepts extra wire fields (seq, runId, agent) on events', async () => {
    const withExtras = minimal.map((event, seq) => ({ ...event, seq, runId: 'r1', agent: 'director' }));
    const result = await verifyStream(withExtras);
    assert.equal(result.ok, true, JSON.stringify(result));
  });

  test('rejects a stream starting with CUSTOM', async () => {
    const result = await verifyStream([{ type: 'CUSTOM', name: 'hello', value: {} }, ...minimal]);
    assert.equal(result.ok, false);
    assert.deepEqual(result.schemaErrors, []);
    assert.equal(result.verifyError, "First event must be 'RUN_STARTED'");
    assert.equal(result.verifyErrorIndex, 0);
  });

  test('rejects TEXT_MESSAGE_CONTENT without TEXT_MESSAGE_START', async () => {
    const result = await verifyStream([runStarted, { type: 'TEXT_MESSAGE_CONTENT', messageId: 'm1', delta: 'x' }, runFinished]);
    assert.equal(result.ok, false);
    assert.deepEqual(result.schemaErrors, []);
    assert.match(result.verifyError, /TEXT_MESSAGE_CONTENT.*No active text message found with ID 'm1'/);
    assert.equal(result.verifyErrorIndex, 1);
  });

  test('rejects an unknown event type "ERROR" (schema check; verifyEvents itself lets unknown types through)', async () => {
    const result = await verifyStream([runStarted, { type: 'ERROR', message: 'boom' }, runFinished]);
    assert.equal(result.ok, false);
    assert.equal(result.verifyError, null);
    assert.equal(result.schemaErrors.length, 1);
    assert.equal(result.schemaErrors[0].index, 1);
    assert.equal(result.schemaErrors[0].type, 'ERROR');
    assert.match(result.schemaErrors[0].message, /unknown event type "ERROR"/);
  });

  test('collects every schema failure, not just the first', async () => {
    const result = await verifyStream([{ ...runStarted, timestamp: 1.5 }, { type: 'CUSTOM', name: 'x' }, runFinished]);
    assert.deepEqual(
      result.schemaErrors.map(({ index, type }) => [index, type]),
      [
        [0, 'RUN_STARTED'],
        [1, 'CUSTOM'],
      ],
    );
  });
});

describe('parseEventsText', () => {
  test('reads a JSON array, NDJSON and an SSE capture alike', () => {
    const ndjson = minimal.map((event) => JSON.stringify(event)).join('\n');
    const sse = minimal.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('');
    assert.deepEqual(parseEventsText(JSON.stringify(minimal)), minimal);
    assert.deepEqual(parseEventsText(ndjson), minimal);
    assert.deepEqual(parseEventsText(sse), minimal);
  });
});

describe('CLI', () => {
  test('exit code 0 for a valid NDJSON stream on stdin, 1 for an invalid one', () => {
    const good = spawnSync(process.execPath, [CLI, '-'], { input: minimal.map((e) => JSON.stringify(e)).join('\n'), encoding: 'utf8' });
    assert.equal(good.status, 0, good.stderr);
    assert.equal(JSON.parse(good.stdout).ok, true);

    const bad = spawnSync(process.execPath, [CLI, '-'], { input: JSON.stringify(minimal.slice(1)), encoding: 'utf8' });
    assert.equal(bad.status, 1, bad.stderr);
    assert.equal(JSON.parse(bad.stdout).verifyError, "First event must be 'RUN_STARTED'");
  });
});

describe('runHttpAgent against a local SSE server', () => {
  const sseEvents = [
    { type: 'RUN_STARTED', threadId: 'thread-1', runId: 'run-1' },
    { type: 'STATE_SNAPSHOT', snapshot: { step: 'research' } },
    { type: 'CUSTOM', name: 'progress', value: { pct: 50 }, seq: 3 },
    { type: 'RUN_FINISHED', threadId: 'thread-1', runId: 'run-1' },
  ];
  const requests = [];
  let server;
  let url;

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        requests.push({ method: req.method, url: req.url, headers: req.headers, body: JSON.parse(body) });
        if (req.url === '/fail') {
          res.writeHead(422, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ detail: 'bad input' }));
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
        for (const event of sseEvents) res.write(`data: ${JSON.stringify(event)}\n\n`);
        res.end();
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${server.address().port}`;
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  test('raw mode collects all 4 events and POSTs a RunAgentInput', async () => {
    const before = requests.length;
    const { events, error, request } = await runHttpAgent({
      url: `${url}/agent`,
      threadId: 'thread-1',
      runId: 'run-1',
      messages: 'Ada Lovelace',
      state: { topic: 'Ada' },
      headers: { 'X-Test': 'yes' },
    });
    assert.equal(error, null);
    assert.deepEqual(events, sseEvents); // verbatim, extra `seq` kept
    assert.equal((await verifyStream(events)).ok, true);

    assert.equal(requests.length, before + 1);
    const received = requests.at(-1);
    assert.equal(received.method, 'POST');
    assert.equal(received.url, '/agent');
    assert.equal(received.headers['content-type'], 'application/json');
    assert.equal(received.headers.accept, 'text/event-stream');
    assert.equal(received.headers['x-test'], 'yes');
    const { body } = received;
    assert.equal(body.threadId, 'thread-1');
    assert.equal(body.runId, 'run-1');
    assert.equal(body.messages.length, 1);
    assert.equal(body.messages[0].role, 'user');
    assert.equal(body.messages[0].content, 'Ada Lovelace');
    assert.equal(typeof body.messages[0].id, 'string');
    assert.deepEqual(body.state, { topic: 'Ada' });
    assert.deepEqual(body.tools, []);
    assert.deepEqual(body.context, []);
    assert.deepEqual(body.forwardedProps, {});
    assert.equal(body.protocolVersion, '1.0');
    assert.deepEqual(body, request);
  });

  test('runAgent mode collects the same 4 events through the subscriber (unknown fields stripped)', async () => {
    const { events, error } = await runHttpAgent({
      url: `${url}/agent`,
      threadId: 'thread-1',
      runId: 'run-1',
      messages: [{ role: 'user', content: 'Ada Lovelace' }],
      mode: 'runAgent',
    });
    assert.equal(error, null);
    assert.deepEqual(
      events.map((event) => event.type),
      sseEvents.map((event) => event.type),
    );
    assert.equal(events[2].seq, undefined); // the client's enforce stage strips fields the schema does not describe
    const { body } = requests.at(-1);
    assert.equal(body.threadId, 'thread-1');
    assert.equal(body.runId, 'run-1');
    assert.equal(body.messages[0].content, 'Ada Lovelace');
  });

  test('a non-2xx answer is reported as an error with status and body', async () => {
    const { events, error } = await runHttpAgent({ url: `${url}/fail`, threadId: 't', runId: 'r', messages: 'x' });
    assert.deepEqual(events, []);
    assert.equal(error, 'HTTP 422: {"detail":"bad input"}');
  });
});
