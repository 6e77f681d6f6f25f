import { BookOpen, GitCompare, NotebookPen, PenLine } from 'lucide-react';
import { useMemo, useState, type ReactNode } from 'react';

import type { BranchIn, SessionOut, StateEditOut, UndoOut } from '../api/client';
import { draftRounds, localDraftOptions, type VersionOption } from '../hooks/useVersions';
import { noteStatusLabel, type NoteView } from '../stream/selectors';
import type { Draft, RunView } from '../stream/types';
import type { Outcome } from '../stream/useSession';
import { producerSections } from '../lib/outline';
import { asStringList, outlineTitle, parseResearch } from '../lib/research';
import { cx } from '../lib/format';
import { DraftList } from './DraftList';
import { Markdown } from './Markdown';
import { OutlineEditor, type EditChanges } from './OutlineEditor';
import { OutlineView } from './OutlineView';
import { ResearchNotes } from './ResearchNotes';
import { UndoButton } from './UndoButton';
import { VersionCompare } from './VersionCompare';
import { ActionMessage, CriticVerdict, EmptyState, GuardedButton, SectionTitle } from './ui';

/** What the producer can do from the Story tab: edit by hand, undo, branch from a draft. */
export interface StoryActions {
  /** Why the actions wait (a run in progress), or null. */
  disabledReason: string | null;
  /** The state version the current outline is from (an edit is made on it). */
  stateVersion: number;
  edit: (changes: EditChanges, expectedVersion: number) => Promise<Outcome<StateEditOut>>;
  reloadState: () => Promise<{ version: number; state: Record<string, unknown> } | null>;
  undo: () => Promise<Outcome<UndoOut>>;
  branch: (point: BranchIn) => Promise<Outcome<SessionOut>>;
}

export interface StoryCompare {
  /** Every version to compare: this session's drafts and pitches, and its family's. */
  options: VersionOption[];
  loading: boolean;
  error: string | null;
  /** The family has other sessions (the compare section says so). */
  family: boolean;
}

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

interface StoryPanelProps {
  state: Record<string, unknown>;
  drafts: Draft[];
  notes?: NoteView[];
  sessionId?: string;
  /** The session's runs (they tell which round wrote each draft). */
  runs?: RunView[];
  actions?: StoryActions;
  compare?: StoryCompare;
}

export function StoryPanel({ state, drafts, notes = [], sessionId, runs = [], actions, compare }: StoryPanelProps) {
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState<StateEditOut | null>(null);
  const rounds = useMemo(() => draftRounds(runs), [runs]);
  const options = useMemo(
    () => compare?.options ?? localDraftOptions(sessionId ?? '', drafts, rounds).map((o) => (sessionId ? o : { ...o, downloadUrl: '' })),
    [compare?.options, sessionId, drafts, rounds],
  );
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
  const mine = producerSections(state);
  const noPitchReason = outline ? null : 'There is no outline to edit yet: the screenwriter writes the first draft.';
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
        {actions && (
          <div className="mt-3 flex flex-wrap items-center gap-2" data-testid="story-actions">
            <GuardedButton
              size="sm"
              icon={PenLine}
              onClick={() => {
                setSaved(null);
                setEditing(true);
              }}
              disabledReason={actions.disabledReason ?? noPitchReason ?? (editing ? 'You are editing the outline below.' : null)}
              align="left"
              data-testid="edit-button"
            >
              Edit by hand
            </GuardedButton>
            <UndoButton onUndo={actions.undo} disabledReason={actions.disabledReason ?? (outline ? null : 'There is nothing to undo yet.')} />
          </div>
        )}
      </div>

      <Section
        id="outline"
        title="Current plot outline"
        right={
          drafts.length > 0 && (
            <span className="text-xs text-zinc-500">
              Draft {drafts.length}
              {mine.length > 0 && <span data-testid="producer-sections-summary"> · yours: {mine.join(', ')}</span>}
            </span>
          )
        }
      >
        {saved && !editing && (
          <div className="mb-2">
            <ActionMessage tone="success" testId="edit-saved" onDismiss={() => setSaved(null)}>
              Saved as version {saved.version}
              {saved.changed.length > 0 ? `: you edited ${saved.changed.join(', ')}.` : '.'} The team keeps your words in the next revisions.
            </ActionMessage>
          </div>
        )}
        {editing && actions ? (
          <OutlineEditor
            outline={outline}
            direction={typeof state.direction === 'string' ? state.direction : ''}
            version={actions.stateVersion}
            disabledReason={actions.disabledReason}
            onSave={actions.edit}
            onReload={actions.reloadState}
            onSaved={(result) => {
              setSaved(result);
              setEditing(false);
            }}
            onCancel={() => setEditing(false)}
          />
        ) : outline ? (
          <div className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900" data-testid="plot-outline">
            <OutlineView outline={outline} producerSections={mine} />
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
        <Section id="drafts" title="Drafts" right={<span className="text-xs text-zinc-500">{drafts.length} from the state snapshots</span>}>
          <DraftList sessionId={sessionId} drafts={drafts} rounds={rounds} onBranch={actions?.branch} branchDisabledReason={actions?.disabledReason} />
        </Section>
      )}

      {(options.length > 1 || compare?.family) && (
        <Section
          id="compare"
          title="Compare versions"
          right={
            <span className="inline-flex items-center gap-1 text-xs text-zinc-500">
              <GitCompare aria-hidden className="size-3.5" /> {compare?.family ? 'this session, its parent and branches' : 'drafts and pitch versions'}
            </span>
          }
        >
          {options.length > 1 ? (
            <VersionCompare sessionId={sessionId ?? ''} options={options} loading={compare?.loading} error={compare?.error} />
          ) : (
            <p className="text-sm text-zinc-500">{compare?.loading ? 'Loading the versions…' : 'Only one version so far; a comparison appears after the next revision.'}</p>
          )}
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
