import { PenLine } from 'lucide-react';
import { useMemo } from 'react';

import { outlineSections } from '../lib/outline';
import { cx } from '../lib/format';
import { Markdown } from './Markdown';

/** The current outline, section by section; the sections the producer wrote by hand are marked as theirs. */
export function OutlineView({ outline, producerSections = [] }: { outline: string; producerSections?: string[] }) {
  const sections = useMemo(() => outlineSections(outline), [outline]);
  const mine = new Set(producerSections);
  return (
    <div className="space-y-3" data-testid="outline-sections">
      {sections.map((section) => {
        const edited = mine.has(section.name);
        return (
          <div
            key={section.name}
            data-testid="outline-section"
            data-section={section.name}
            data-producer={edited ? 'true' : undefined}
            className={cx('relative', edited && '-mx-2 rounded-md border-l-2 border-amber-400 bg-amber-50/60 px-2 py-0.5 dark:border-amber-500/60 dark:bg-amber-500/5')}
          >
            {edited && (
              <span className="float-right mt-1 ml-2 inline-flex items-center gap-1 rounded-full bg-amber-100 px-1.5 py-0.5 text-[0.6875rem] leading-none font-medium text-amber-800 dark:bg-amber-500/15 dark:text-amber-300" data-testid="producer-section" title="You wrote this section by hand; the screenwriter keeps it unless a note asks to change it.">
                <PenLine aria-hidden className="size-3" /> Your edit
              </span>
            )}
            <Markdown text={section.text} />
          </div>
        );
      })}
    </div>
  );
}
