import { ChevronDown } from 'lucide-react';
import { useState } from 'react';

import type { Entry } from '../stream/types';
import { cx } from '../lib/format';
import { DocumentCard } from './DocumentCard';
import { Markdown } from './Markdown';
import { StateChip, ToolCall } from './ToolCall';

/** A long message (a draft, a report) in a box that can be expanded once written. */
function MessageBox({ text, streaming, clamp }: { text: string; streaming: boolean; clamp: boolean }) {
  const [expanded, setExpanded] = useState(false);
  const long = clamp && text.length > 700;
  return (
    <div className="relative" data-testid="agent-text" data-streaming={streaming ? 'true' : 'false'}>
      <div className={cx(long && !expanded && !streaming && 'max-h-64 overflow-hidden')}>
        <Markdown text={text} streaming={streaming} className="md-sm" />
      </div>
      {long && !streaming && (
        <div className={cx(!expanded && 'absolute inset-x-0 bottom-0 bg-gradient-to-t from-white pt-10 dark:from-zinc-900')}>
          <button
            type="button"
            onClick={() => setExpanded((e) => !e)}
            aria-expanded={expanded}
            className="inline-flex items-center gap-1 text-xs font-medium text-indigo-600 hover:underline dark:text-indigo-400"
          >
            <ChevronDown aria-hidden className={cx('size-3.5 transition-transform', expanded && 'rotate-180')} />
            {expanded ? 'Show less' : 'Show all'}
          </button>
        </div>
      )}
    </div>
  );
}

/** What one agent did, in order: tool calls (collapsible), state updates, its text. */
export function AgentEntries({ entries, running, clamp = true, hideTool }: { entries: Entry[]; running: boolean; clamp?: boolean; hideTool?: (e: Entry) => boolean }) {
  return (
    <div className="space-y-2">
      {entries.map((entry) => {
        if (hideTool?.(entry)) return null;
        switch (entry.kind) {
          case 'message':
            return <MessageBox key={entry.id} text={entry.text} streaming={running && !entry.done} clamp={clamp} />;
          case 'tool':
            return <ToolCall key={entry.id} entry={entry} />;
          case 'state':
            return <StateChip key={entry.id} entry={entry} />;
          case 'artifact':
            return <DocumentCard key={entry.id} {...entry} />;
          case 'error':
            return (
              <p key={entry.id} role="alert" className="rounded-md bg-rose-50 px-2.5 py-1.5 text-sm text-rose-800 dark:bg-rose-500/10 dark:text-rose-200">
                {entry.message}
              </p>
            );
          case 'thought':
            return (
              <p key={entry.id} className="text-xs text-zinc-500 italic">
                {entry.text}
              </p>
            );
        }
      })}
    </div>
  );
}
