import { ArrowRight, BookOpen, ChevronRight, Database, FileText, Flag, NotebookPen, Search, Wrench } from 'lucide-react';
import type { ReactNode } from 'react';

import { agentMeta } from '../stream/agents';
import { parseJson, toolArgs, toolRefused } from '../stream/selectors';
import type { StateEntry, ToolEntry } from '../stream/types';
import { formatBytes } from '../lib/format';
import { safeUrl } from '../lib/research';
import { Spinner } from './ui';

interface WikiResult {
  title?: string;
  url?: string;
  description?: string;
  extract?: string;
}

function Row({ icon, summary, children, testId }: { icon: ReactNode; summary: ReactNode; children?: ReactNode; testId?: string }) {
  return (
    <details className="group/tool rounded-lg border border-zinc-200 bg-zinc-50/60 text-sm dark:border-zinc-800 dark:bg-zinc-900/40" data-testid={testId}>
      <summary className="flex items-start gap-2 rounded-lg px-2.5 py-1.5 text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800/60">
        <span className="mt-0.5 shrink-0 text-zinc-400">{icon}</span>
        <span className="min-w-0 flex-1">{summary}</span>
        <ChevronRight aria-hidden className="mt-0.5 size-4 shrink-0 text-zinc-400 transition-transform group-open/tool:rotate-90" />
      </summary>
      {children && <div className="border-t border-zinc-200 px-3 py-2.5 dark:border-zinc-800">{children}</div>}
    </details>
  );
}

function Raw({ label, text }: { label: string; text: string | undefined }) {
  if (!text) return null;
  const parsed = parseJson(text);
  return (
    <div className="mt-1.5 first:mt-0">
      <div className="text-[0.6875rem] font-medium tracking-wide text-zinc-500 uppercase">{label}</div>
      <pre className="mt-1 max-h-56 overflow-auto rounded-md bg-white p-2 font-mono text-xs whitespace-pre-wrap text-zinc-700 ring-1 ring-zinc-200 dark:bg-zinc-950 dark:text-zinc-300 dark:ring-zinc-800">
        {parsed === undefined ? text : JSON.stringify(parsed, null, 2)}
      </pre>
    </div>
  );
}

function WikipediaSearch({ entry }: { entry: ToolEntry }) {
  const query = String(toolArgs(entry).query ?? '');
  const result = parseJson(entry.result) as { status?: string; results?: WikiResult[]; message?: string } | undefined;
  const results = result?.results ?? [];
  const titles = results.map((r) => r.title).filter(Boolean);
  const summary = (
    <>
      Searched Wikipedia for <q className="font-medium text-zinc-900 dark:text-zinc-100">{query}</q>
      {!entry.done && <Spinner className="ml-1.5 inline size-3.5 align-[-2px]" />}
      {result && (
        <span className="text-zinc-500">
          {' '}
          →{' '}
          {titles.length > 0 ? (
            <span data-testid="wiki-titles">{titles.join(', ')}</span>
          ) : result.status === 'unavailable' ? (
            'Wikipedia unreachable'
          ) : (
            'nothing found'
          )}
        </span>
      )}
    </>
  );
  return (
    <Row icon={<Search className="size-3.5" />} summary={summary} testId="tool-wikipedia_search">
      {results.length > 0 ? (
        <ul className="space-y-2">
          {results.map((r, i) => {
            const url = safeUrl(r.url);
            return (
              <li key={`${r.title}-${i}`}>
                {url ? (
                  <a href={url} target="_blank" rel="noopener noreferrer" className="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
                    {r.title}
                  </a>
                ) : (
                  <span className="font-medium">{r.title}</span>
                )}
                {r.description && <span className="text-zinc-500"> · {r.description}</span>}
                {r.extract && <p className="mt-0.5 line-clamp-3 text-xs text-zinc-600 dark:text-zinc-400">{r.extract}</p>}
              </li>
            );
          })}
        </ul>
      ) : (
        <p className="text-xs text-zinc-600 dark:text-zinc-400">{result?.message ?? 'Waiting for Wikipedia…'}</p>
      )}
    </Row>
  );
}

function StateUpdate({ entry }: { entry: ToolEntry }) {
  const args = toolArgs(entry);
  const result = parseJson(entry.result) as { status?: string; entries?: number; message?: string } | undefined;
  const key = String(args.key ?? 'state');
  const value = typeof args.value === 'string' ? args.value : JSON.stringify(args.value ?? '', null, 2);
  return (
    <Row
      icon={<Database className="size-3.5" />}
      testId="tool-append_to_state"
      summary={
        <>
          Updated <code className="rounded bg-zinc-200/60 px-1 font-mono text-xs dark:bg-zinc-800">{key}</code>
          {result?.entries !== undefined && <span className="text-zinc-500"> · {result.entries} {result.entries === 1 ? 'entry' : 'entries'}</span>}
          {result?.status && result.status !== 'ok' && <span className="text-rose-600"> · {result.message ?? result.status}</span>}
        </>
      }
    >
      <pre className="max-h-64 overflow-auto font-sans text-xs leading-relaxed whitespace-pre-wrap text-zinc-700 dark:text-zinc-300">{value}</pre>
    </Row>
  );
}

/** A tool call, collapsed to one line; open it to see arguments and result. */
export function ToolCall({ entry }: { entry: ToolEntry }) {
  switch (entry.name) {
    case 'wikipedia_search':
      return <WikipediaSearch entry={entry} />;
    case 'append_to_state':
      return <StateUpdate entry={entry} />;
    case 'transfer_to_agent': {
      const to = String(toolArgs(entry).agent_name ?? '');
      return (
        <Row
          icon={<ArrowRight className="size-3.5" />}
          testId="tool-transfer_to_agent"
          summary={
            <>
              {agentMeta(entry.agent).label} handed over to <span className="font-medium text-zinc-900 dark:text-zinc-100">{agentMeta(to).label}</span>
            </>
          }
        >
          <Raw label="Arguments" text={entry.args} />
        </Row>
      );
    }
    case 'exit_loop': {
      if (toolRefused(entry)) {
        // The server refuses approval while producer's notes are open.
        return (
          <Row icon={<Flag className="size-3.5 text-amber-500" />} testId="tool-exit_loop-refused" summary={<>Approval refused: a producer&apos;s note is still open</>}>
            <Raw label="Result" text={entry.result} />
          </Row>
        );
      }
      return (
        <Row
          icon={<Flag className="size-3.5 text-emerald-500" />}
          testId="tool-exit_loop"
          summary={
            <>
              <span className="font-medium text-emerald-700 dark:text-emerald-400">Loop exit</span>: the critic approved, the writers&apos; room is done
            </>
          }
        >
          <Raw label="Result" text={entry.result} />
        </Row>
      );
    }
    case 'judge_note': {
      const args = toolArgs(entry);
      const addressed = args.addressed === true;
      return (
        <Row
          icon={<NotebookPen className="size-3.5" />}
          testId="tool-judge_note"
          summary={
            <>
              Judged a producer&apos;s note:{' '}
              <span className={addressed ? 'font-medium text-emerald-700 dark:text-emerald-400' : 'font-medium text-amber-700 dark:text-amber-400'}>
                {addressed ? 'addressed' : 'not addressed'}
              </span>
              {!entry.done && <Spinner className="ml-1.5 inline size-3.5" />}
              {toolRefused(entry) && <span className="text-rose-600"> · refused</span>}
            </>
          }
        >
          {typeof args.verdict === 'string' && <p className="text-xs text-zinc-700 dark:text-zinc-300">{args.verdict}</p>}
          <Raw label="Result" text={entry.result} />
        </Row>
      );
    }
    case 'save_pitch_document': {
      const args = toolArgs(entry);
      const result = parseJson(entry.result) as { filename?: string; version?: number; bytes?: number; status?: string } | undefined;
      return (
        <Row
          icon={<FileText className="size-3.5" />}
          testId="tool-save_pitch_document"
          summary={
            <>
              Saved the pitch document{' '}
              {result?.filename ? <span className="font-medium text-zinc-900 dark:text-zinc-100">{result.filename}</span> : <Spinner className="inline size-3.5" />}
              {result?.bytes !== undefined && <span className="text-zinc-500"> · {formatBytes(result.bytes)}</span>}
            </>
          }
        >
          <pre className="max-h-64 overflow-auto font-sans text-xs leading-relaxed whitespace-pre-wrap text-zinc-700 dark:text-zinc-300">
            {typeof args.markdown === 'string' ? args.markdown : entry.args}
          </pre>
        </Row>
      );
    }
    default:
      return (
        <Row
          icon={<Wrench className="size-3.5" />}
          testId={`tool-${entry.name}`}
          summary={
            <>
              Called <code className="font-mono text-xs">{entry.name}</code>
              {!entry.done && <Spinner className="ml-1.5 inline size-3.5" />}
            </>
          }
        >
          <Raw label="Arguments" text={entry.args} />
          <Raw label="Result" text={entry.result} />
        </Row>
      );
  }
}

/** A state snapshot: which keys an agent changed (the Story tab shows their values). */
export function StateChip({ entry }: { entry: StateEntry }) {
  return (
    <div className="flex items-center gap-1.5 px-1 text-xs text-zinc-500 dark:text-zinc-400" data-testid="state-update">
      <BookOpen aria-hidden className="size-3.5" />
      <span>
        State {entry.version !== null ? `v${entry.version}` : ''}: {entry.keys.join(', ')}
      </span>
    </div>
  );
}
