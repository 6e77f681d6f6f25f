import { BookOpen, GitCompare, NotebookPen } from 'lucide-react';
import { useEffect, useMemo, useState, type ReactNode } from 'react';

import { agentMeta } from '../stream/agents';
import { noteStatusLabel, type NoteView } from '../stream/selectors';
import type { Draft } from '../stream/types';
import { asStringList, outlineTitle, parseResearch } from '../lib/research';
import { clockTime, cx } from '../lib/format';
import { DraftDiff } from './DraftDiff';
import { Markdown } from './Markdown';
import { ResearchNotes } from './ResearchNotes';
import { CriticVerdict, EmptyState, SectionTitle } from './ui';

function Section({ id, title, right, children }: { id: string; title: string; right?: ReactNode; children: ReactNode }) {
  return (
    <section aria-labelledby={id} className="scroll-mt-4">
      <SectionTitle right={right}>
        <span id={id}>{title}</span>
      </SectionTitle>
      {children}
    </section>
  );
}

function draftLabel(draft: Draft, index: number): string {
  const when = draft.at ? ` · ${clockTime(draft.at)}` : '';
  return `Draft ${index + 1} (state v${draft.version})${when}`;
}

function Drafts({ drafts }: { drafts: Draft[] }) {
  const last = drafts.length - 1;
  const [mode, setMode] = useState<'view' | 'diff'>('diff');
  const [a, setA] = useState(Math.max(0, last - 1));
  const [b, setB] = useState(last);
  // Follow the newest drafts as they arrive, unless a choice was made.
  const [touched, setTouched] = useState(false);
  useEffect(() => {
    if (!touched) {
      setA(Math.max(0, last - 1));
      setB(last);
    }
  }, [last, touched]);
  const from = drafts[Math.min(a, last)];
  const to = drafts[Math.min(b, last)];
  const select = (value: number, set: (n: number) => void, label: string) => (
    <label className="flex min-w-0 items-center gap-1.5 text-xs text-zinc-500">
      {label}
      <select
        value={value}
        onChange={(e) => {
          setTouched(true);
          set(Number(e.target.value));
        }}
        className="min-w-0 rounded-md border border-zinc-200 bg-white px-1.5 py-1 text-xs text-zinc-800 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-200"
      >
        {drafts.map((d, i) => (
          <option key={d.version} value={i}>
            {draftLabel(d, i)}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <div className="space-y-3" data-testid="drafts">
      <div className="flex flex-wrap items-center gap-2">
        <div className="inline-flex rounded-lg bg-zinc-100 p-0.5 text-xs dark:bg-zinc-800">
          {(['diff', 'view'] as const).map((m) => (
            <button
              key={m}
              type="button"
              onClick={() => setMode(m)}
              aria-pressed={mode === m}
              className={cx('rounded-md px-2 py-1 font-medium', mode === m ? 'bg-white shadow-xs dark:bg-zinc-950' : 'text-zinc-500')}
            >
              {m === 'diff' ? 'Compare' : 'Read'}
            </button>
          ))}
        </div>
        {mode === 'diff' ? (
          <>
            {select(a, setA, 'From')}
            {select(b, setB, 'to')}
          </>
        ) : (
          select(b, setB, 'Draft')
        )}
      </div>
      {mode === 'diff' && from && to ? (
        <DraftDiff from={from.text} to={to.text} />
      ) : to ? (
        <div className="rounded-lg border border-zinc-200 p-3 dark:border-zinc-800">
          <p className="mb-2 text-xs text-zinc-500">by {agentMeta(to.agent).label}</p>
          <Markdown text={to.text} className="md-sm" />
        </div>
      ) : null}
    </div>
  );
}

const NOTE_PILL: Record<string, string> = {
  queued: 'bg-zinc-100 text-zinc-600 ring-zinc-500/20 dark:bg-zinc-800 dark:text-zinc-300',
  kept: 'bg-amber-50 text-amber-800 ring-amber-600/20 dark:bg-amber-500/10 dark:text-amber-300',
  taken: 'bg-indigo-50 text-indigo-700 ring-indigo-600/20 dark:bg-indigo-500/10 dark:text-indigo-300',
  addressed: 'bg-emerald-50 text-emerald-700 ring-emerald-600/20 dark:bg-emerald-500/10 dark:text-emerald-300',
  not_addressed: 'bg-amber-50 text-amber-800 ring-amber-600/20 dark:bg-amber-500/10 dark:text-amber-300',
};

/** The producer's notes on the pitch: what was asked, where each note stands, the critic's verdict. */
function ProducerNotes({ notes }: { notes: NoteView[] }) {
  return (
    <ol className="space-y-2" data-testid="story-notes">
      {notes.map((note) => (
        <li key={note.id} className="rounded-xl border border-zinc-200 p-3 dark:border-zinc-800" data-testid="story-note" data-status={note.status}>
          <div className="flex flex-wrap items-start gap-2">
            <NotebookPen aria-hidden className="mt-0.5 size-4 shrink-0 text-zinc-400" />
            <q className="min-w-0 flex-1 text-sm text-zinc-900 dark:text-zinc-100">{note.text}</q>
            <span className={cx('rounded-full px-2 py-0.5 text-[0.6875rem] font-medium whitespace-nowrap ring-1 ring-inset', NOTE_PILL[note.status])} data-testid="note-status">
              {noteStatusLabel(note)}
            </span>
          </div>
          {(note.revision ?? 0) > 0 && <div className="mt-1 pl-6 text-xs text-zinc-500">Revision {note.revision}</div>}
          {note.verdict && (
            <CriticVerdict verdict={note.verdict} className="mt-1.5 pl-6" />
          )}
        </li>
      ))}
    </ol>
  );
}

export function StoryPanel({ state, drafts, notes = [] }: { state: Record<string, unknown>; drafts: Draft[]; notes?: NoteView[] }) {
  const subject = typeof state.PROMPT === 'string' ? state.PROMPT : '';
  const direction = typeof state.direction === 'string' ? state.direction.trim() : '';
  const revision = typeof state.revision === 'number' ? state.revision : 0;
  const outline = typeof state.PLOT_OUTLINE === 'string' ? state.PLOT_OUTLINE : '';
  const research = asStringList(state.research);
  const feedback = asStringList(state.CRITICAL_FEEDBACK);
  const boxOffice = typeof state.box_office_report === 'string' ? state.box_office_report : '';
  const casting = typeof state.casting_report === 'string' ? state.casting_report : '';
  const sources = useMemo(() => research.flatMap((r) => parseResearch(r).facts).filter((f) => f.url).length, [research]);

  if (!subject && !outline && research.length === 0 && notes.length === 0) {
    return (
      <EmptyState icon={BookOpen} title="No story yet" className="py-16">
        The current outline, earlier drafts with their differences, and the research with its Wikipedia sources appear here as the team
        writes.
      </EmptyState>
    );
  }
  const title = outline ? outlineTitle(outline) : null;
  return (
    <div className="space-y-7 px-4 py-4" data-testid="story-panel">
      <div>
        <p className="text-xs font-medium tracking-wide text-zinc-500 uppercase">A film about {subject || '…'}</p>
        <h2 className="mt-1 text-lg font-semibold tracking-tight" data-testid="story-title">
          {title ?? 'Untitled (no outline yet)'}
        </h2>
        {(direction || revision > 0) && (
          <p className="mt-1.5 flex flex-wrap items-center gap-2 text-xs text-zinc-500">
            {direction && (
              <span data-testid="story-direction">
                Direction: <span className="rounded-full bg-indigo-50 px-2 py-0.5 font-medium text-indigo-700 dark:bg-indigo-500/10 dark:text-indigo-300">{direction}</span>
              </span>
            )}
            {revision > 0 && <span data-testid="story-revision">Revision {revision}</span>}
          </p>
        )}
      </div>

      <Section id="outline" title="Current plot outline" right={drafts.length > 0 && <span className="text-xs text-zinc-500">Draft {drafts.length}</span>}>
        {outline ? (
          <div className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900" data-testid="plot-outline">
            <Markdown text={outline} />
          </div>
        ) : (
          <p className="text-sm text-zinc-500">The screenwriter has not written a draft yet.</p>
        )}
      </Section>

      {notes.length > 0 && (
        <Section id="producer-notes" title="Producer's notes" right={<span className="text-xs text-zinc-500">{notes.filter((n) => n.status === 'addressed').length} of {notes.length} addressed</span>}>
          <ProducerNotes notes={notes} />
        </Section>
      )}

      {drafts.length > 0 && (
        <Section
          id="drafts"
          title="Drafts"
          right={
            <span className="inline-flex items-center gap-1 text-xs text-zinc-500">
              <GitCompare aria-hidden className="size-3.5" /> {drafts.length} from the state snapshots
            </span>
          }
        >
          {drafts.length > 1 ? <Drafts drafts={drafts} /> : <p className="text-sm text-zinc-500">Only one draft so far; a comparison appears after the next revision.</p>}
        </Section>
      )}

      <Section id="research" title="Research" right={sources > 0 && <span className="text-xs text-zinc-500">{sources} sourced facts</span>}>
        {research.length ? <ResearchNotes entries={research} /> : <p className="text-sm text-zinc-500">No research notes yet.</p>}
      </Section>

      {feedback.length > 0 && (
        <Section id="feedback" title="The critic's notes">
          <ol className="space-y-2">
            {feedback.map((f, i) => (
              <li key={i} className="rounded-xl border border-zinc-200 p-3 dark:border-zinc-800">
                <div className="mb-1 text-xs font-medium text-zinc-500">After draft {i + 1}</div>
                <Markdown text={f.replace(/\n/g, '\n\n')} className="md-sm" />
              </li>
            ))}
          </ol>
        </Section>
      )}

      {(boxOffice || casting) && (
        <div className="grid gap-4 @container">
          {boxOffice && (
            <Section id="box-office" title="Box-office outlook">
              <div className="rounded-xl border border-zinc-200 p-3 dark:border-zinc-800">
                <Markdown text={boxOffice} className="md-sm" />
              </div>
            </Section>
          )}
          {casting && (
            <Section id="casting" title="Casting ideas">
              <div className="rounded-xl border border-zinc-200 p-3 dark:border-zinc-800">
                <Markdown text={casting} className="md-sm" />
              </div>
            </Section>
          )}
        </div>
      )}
    </div>
  );
}
