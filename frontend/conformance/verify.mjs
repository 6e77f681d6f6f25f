// AG-UI conformance checks against the stock TypeScript client (@ag-ui/client + @ag-ui/core 1.0.0).
//
// Module:
//   verifyStream(events)   -> { ok, schemaErrors, verifyError, verifyErrorIndex, count }
//   runHttpAgent(options)  -> { events, error, request }
//
// CLI:
//   node conformance/verify.mjs <file.json|file.ndjson|->      JSON array, NDJSON or raw SSE ("data: ..." frames)
//   node conformance/verify.mjs --http <url> --thread <id> --message "Ada Lovelace"
//        [--run <id>] [--state '<json>'] [--header 'Name: value']... [--mode raw|runAgent]
// Prints JSON on stdout; exit code 0 when the stream is conformant, 1 otherwise (2 on usage errors).
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

import { EventType, HttpAgent, randomUUID, verifyEvents } from '@ag-ui/client';
// EventSchemas (alias of EventSchema, the zod discriminated union on `type`) is only exported from the
// `@ag-ui/core/schemas` subpath in 1.0.0; the main `@ag-ui/core` entry has no zod validators.
import { EventSchemas } from '@ag-ui/core/schemas';
import { from } from 'rxjs';

const KNOWN_TYPES = new Set(Object.values(EventType));

function describeIssues(error) {
  const issues = error?.issues ?? [];
  if (issues.length === 0) return String(error?.message ?? error);
  return issues
    .map((issue) => {
      const where = issue.path?.length ? issue.path.join('.') : '(root)';
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

/**
 * Checks a list of events, as received on the wire (camelCase, extra fields allowed), two ways:
 * every event is parsed with @ag-ui/core's EventSchemas (all failures collected), and the whole
 * list is run through @ag-ui/client's verifyEvents, which stops at the first ordering violation.
 */
export async function verifyStream(events) {
  if (!Array.isArray(events)) throw new TypeError('verifyStream expects an array of events');

  const schemaErrors = [];
  events.forEach((event, index) => {
    const parsed = EventSchemas.safeParse(event);
    if (!parsed.success) {
      const type = event?.type ?? null;
      const message =
        typeof type === 'string' && !KNOWN_TYPES.has(type)
          ? `unknown event type ${JSON.stringify(type)} (not in EventSchemas)`
          : describeIssues(parsed.error);
      schemaErrors.push({ index, type, message });
    }
  });

  let verifyError = null;
  let verifyErrorIndex = null;
  let passed = 0;
  await new Promise((resolve) => {
    from(events)
      .pipe(verifyEvents())
      .subscribe({
        next: () => {
          passed += 1;
        },
        error: (err) => {
          verifyError = err instanceof Error ? err.message : String(err);
          verifyErrorIndex = passed; // verifyEvents re-emits every accepted event, so this is the rejected one
          resolve();
        },
        complete: resolve,
      });
  });

  return {
    ok: schemaErrors.length === 0 && verifyError === null,
    schemaErrors,
    verifyError,
    verifyErrorIndex,
    count: events.length,
  };
}

function normalizeMessages(messages) {
  if (messages === undefined || messages === null) return [];
  const list = typeof messages === 'string' ? [{ role: 'user', content: messages }] : messages;
  // RunAgentInput's MessageSchema requires an id on every message; HttpAgent validates the input
  // before sending (enforceOutgoingInput) and would throw without one.
  return list.map((message) => ({ id: message.id ?? randomUUID(), ...message }));
}

/**
 * Runs the stock HttpAgent against `url` and collects what it emits.
 *
 * mode 'raw' (default): `agent.run(input)`, the HttpAgent's own transport observable (POST, SSE/proto
 *   parsing). Yields every frame exactly as received: no stripping of unknown fields, no dropping of
 *   unknown types, no verification, so a stream can then be judged by verifyStream.
 * mode 'runAgent': the documented high-level `agent.runAgent(params, subscriber)`; events come from
 *   the subscriber's onEvent, i.e. AFTER the client's enforce stage (unknown event types dropped,
 *   unknown fields stripped, both with console warnings) and verifyEvents (the run errors at the
 *   first violation, reported in `error`).
 */
export async function runHttpAgent({ url, threadId, runId, messages, state, headers, mode = 'raw' } = {}) {
  if (!url) throw new TypeError('runHttpAgent needs a url');
  const agent = new HttpAgent({
    url,
    headers: headers ?? {},
    threadId: threadId ?? randomUUID(),
    initialMessages: normalizeMessages(messages),
    initialState: state ?? {},
  });
  const events = [];
  const parameters = { runId: runId ?? randomUUID() };

  if (mode === 'runAgent') {
    let error = null;
    try {
      await agent.runAgent(parameters, {
        onEvent: ({ event }) => {
          events.push(event);
        },
        onRunFailed: ({ error: err }) => {
          error = err instanceof Error ? err.message : String(err);
          return { stopPropagation: true };
        },
      });
    } catch (err) {
      error ??= err instanceof Error ? err.message : String(err);
    }
    return { events, error, request: null };
  }

  if (mode !== 'raw') throw new TypeError(`unknown mode ${JSON.stringify(mode)} (raw|runAgent)`);
  // prepareRunAgentInput is what runAgent itself uses to build the RunAgentInput (protected in the
  // typings only): threadId, runId, protocolVersion, tools, context, forwardedProps, state, messages.
  const request = agent.prepareRunAgentInput(parameters);
  const error = await new Promise((resolve) => {
    agent.run(request).subscribe({
      next: (event) => {
        events.push(event);
      },
      error: (err) => resolve(err instanceof Error ? err.message : String(err)),
      complete: () => resolve(null),
    });
  });
  return { events, error, request };
}

// -- CLI ----------------------------------------------------------------------------------------

/** Parses a JSON array, NDJSON (one event per line) or an SSE capture (`data: {...}` frames). */
export function parseEventsText(text) {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[')) return JSON.parse(trimmed);
  const lines = trimmed.split(/\r?\n/);
  if (lines.some((line) => line.startsWith('data:'))) {
    const events = [];
    for (const frame of trimmed.split(/\r?\n\r?\n/)) {
      const data = frame
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''));
      if (data.length > 0) events.push(JSON.parse(data.join('\n')));
    }
    return events;
  }
  return lines.filter((line) => line.trim() !== '').map((line) => JSON.parse(line));
}

function parseArgs(argv) {
  const options = { headers: {} };
  const positional = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      i += 1;
      return argv[i];
    };
    switch (arg) {
      case '--http':
        options.url = value();
        break;
      case '--thread':
        options.threadId = value();
        break;
      case '--run':
        options.runId = value();
        break;
      case '--message':
        options.message = value();
        break;
      case '--state':
        options.state = JSON.parse(value());
        break;
      case '--mode':
        options.mode = value();
        break;
      case '--header': {
        const header = value();
        const colon = header.indexOf(':');
        if (colon < 1) throw new Error(`--header expects "Name: value", got ${JSON.stringify(header)}`);
        options.headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
        break;
      }
      case '-h':
      case '--help':
        options.help = true;
        break;
      default:
        positional.push(arg);
    }
  }
  return { options, positional };
}

const USAGE = `usage:
  node conformance/verify.mjs <file.json|file.ndjson|->
  node conformance/verify.mjs --http <url> --thread <id> --message <text> [--run <id>] [--state <json>] [--header "K: V"]... [--mode raw|runAgent]`;

async function main(argv) {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    return 2;
  }
  const { options, positional } = parsed;
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  if (options.url) {
    const { events, error, request } = await runHttpAgent({
      url: options.url,
      threadId: options.threadId,
      runId: options.runId,
      messages: options.message === undefined ? [] : options.message,
      state: options.state,
      headers: options.headers,
      mode: options.mode,
    });
    const verify = await verifyStream(events);
    process.stdout.write(`${JSON.stringify({ events, verify, error, request }, null, 2)}\n`);
    return verify.ok && error === null ? 0 : 1;
  }

  if (positional.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const source = positional[0];
  const text = readFileSync(source === '-' ? 0 : source, 'utf8');
  const result = await verifyStream(parseEventsText(text));
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return result.ok ? 0 : 1;
}

const invokedDirectly = (() => {
  if (!process.argv[1]) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`${err?.stack ?? err}\n`);
      process.exitCode = 2;
    },
  );
}
