import { ExternalLink } from 'lucide-react';

import { parseResearch } from '../lib/research';
import { Markdown } from './Markdown';

/** The researcher's notes, one card per search, each fact linked to its Wikipedia source. */
export function ResearchNotes({ entries }: { entries: string[] }) {
  return (
    <ol className="space-y-3" data-testid="research-notes">
      {entries.map((entry, i) => {
        const note = parseResearch(entry);
        if (note.facts.length === 0) {
          return (
            <li key={i} className="rounded-xl border border-zinc-200 p-3 dark:border-zinc-800">
              <Markdown text={entry} className="md-sm" />
            </li>
          );
        }
        return (
          <li key={i} className="rounded-xl border border-zinc-200 bg-white p-3 dark:border-zinc-800 dark:bg-zinc-900">
            <div className="mb-2 text-xs font-medium text-zinc-500">
              Search {i + 1}: <span className="text-zinc-800 dark:text-zinc-200">{note.heading}</span>
            </div>
            <ul className="space-y-2.5">
              {note.facts.map((fact, j) => (
                <li key={j} className="text-sm leading-relaxed">
                  <span className="font-medium">{fact.title}</span>
                  <span className="text-zinc-600 dark:text-zinc-400">: {fact.text}</span>
                  {fact.url && (
                    <a
                      href={fact.url}
                      target="_blank"
                      rel="noopener noreferrer nofollow"
                      data-testid="research-source"
                      className="ml-1.5 inline-flex items-center gap-0.5 text-xs font-medium text-indigo-600 hover:underline dark:text-indigo-400"
                    >
                      {new URL(fact.url).hostname.replace(/^www\./, '')}
                      <ExternalLink aria-hidden className="size-3" />
                    </a>
                  )}
                </li>
              ))}
            </ul>
            {note.other.length > 0 && <p className="mt-2 text-xs text-zinc-500">{note.other.join(' ')}</p>}
          </li>
        );
      })}
    </ol>
  );
}
