import { Archive, ChevronRight, Clapperboard, MessageSquare, NotebookPen } from 'lucide-react';
import { useEffect, useState } from 'react';

import type { BranchIn, RunOut, SessionOut, Stage } from '../api/client';
import type { Outcome } from '../stream/useSession';
import { BranchButton } from './BranchButton';
import { RegenerateButton } from './RegenerateButton';

import { agentMeta, LANE_AGENTS, WRITER_AGENTS } from '../stream/agents';
import { branchCut, FOLLOW_UP_PREFIX, regenerationText, splitQuestion, teamView, type Lane, type PhaseStatus, type Round, type RoundNote } from '../stream/selectors';
import type { Entry, RunView } from '../stream/types';
import { compactNumber, cx, formatUsd, fullTime, plural } from '../lib/format';
import { AgentEntries } from './AgentEntries';
import { Markdown } from './Markdown';
import { AgentAvatar, CriticVerdict, PhaseIcon, SectionTitle, StatusPill } from './ui';

const PHASE_LABEL = { researcher: 'Research', screenwriter: 'Draft', critic: 'Critique' } as const;

/** What the producer can do from the Team panel: regenerate a stage, branch from a round. */
export interface TeamActions {
  /** Why every action waits (a run in progress), or null. */
  disabledReason: string | null;
  /** Why a regeneration cannot start yet (no pitch), or null. */
  regenerateReason: string | null;
  regenerate: (stage: Stage) => Promise<Outcome<RunOut>>;
  branch: (point: BranchIn) => Promise<Outcome<SessionOut>>;
}

const LANE_STAGE: Record<string, Stage> = { box_office_researcher: 'box_office', casting_agent: 'casting' };

function VerdictBadge({ round }: { round: Round }) {
  const styles = {
    approved: ['Approved', 'bg-emerald-50 text-emerald-700 ring-emerald-600/20 dark:bg-emerald-500/10 dark:text-emerald-300'],
    revise: ['Needs another round', 'bg-amber-50 text-amber-800 ring-amber-600/20 dark:bg-amber-500/10 dark:text-amber-300'],
    pending: round.status === 'stopped' ? ['Stopped', 'bg-zinc-100 text-zinc-600 ring-zinc-500/20 dark:bg-zinc-800 dark:text-zinc-300'] : ['In progress', 'bg-indigo-50 text-indigo-700 ring-indigo-600/20 dark:bg-indigo-500/10 dark:text-indigo-300'],
  } as const;
  const [label, cls] = styles[round.verdict];
  return <span className={cx('rounded-full px-2 py-0.5 text-[0.6875rem] font-medium whitespace-nowrap ring-1 ring-inset', cls)}>{label}</span>;
}

/** An agent a revision passed over: its report from the earlier version stands. */
function KeptReport() {
  return (
    <p className="flex items-center gap-1.5 text-xs text-zinc-500" data-testid="kept-report">
      <Archive aria-hidden className="size-3.5" /> Kept its report from the earlier version.
    </p>
  );
}

/** The producer's notes a round took, and the critic's verdict on each. */
function RoundNotes({ notes, done }: { notes: RoundNote[]; done: boolean }) {
  return (
    <div className="rounded-lg border border-indigo-200/70 bg-indigo-50/50 px-3 py-2 text-sm dark:border-indigo-500/20 dark:bg-indigo-500/5" data-testid="round-notes">
      <div className="mb-1 flex items-center gap-1.5 text-xs font-medium text-indigo-900 dark:text-indigo-200">
        <NotebookPen aria-hidden className="size-3.5" /> Producer&apos;s {notes.length === 1 ? 'note' : 'notes'} taken this round
      </div>
      <ul className="space-y-1.5">
        {notes.map((note) => {
          const status = note.addressed === null ? 'taken' : note.addressed ? 'addressed' : 'not_addressed';
          return (
            <li key={note.id} data-testid="round-note" data-note-id={note.id} data-status={status}>
              <q className="text-zinc-900 dark:text-zinc-100">{note.text}</q>
              <span
                data-testid="round-note-status"
                className={cx(
                  'ml-2 text-xs font-medium',
                  status === 'addressed' ? 'text-emerald-700 dark:text-emerald-300' : status === 'not_addressed' ? 'text-amber-700 dark:text-amber-300' : 'text-zinc-500',
                )}
              >
                {status === 'addressed' ? 'Addressed' : status === 'not_addressed' ? 'Not addressed' : done ? 'No verdict' : 'Awaiting the critic'}
              </span>
              {note.verdict && (
                <CriticVerdict verdict={note.verdict} className="mt-0.5" testId="round-note-verdict" />
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function isFeedback(entry: Entry): boolean {
  return entry.kind === 'tool' && entry.name === 'append_to_state' && entry.args.includes('CRITICAL_FEEDBACK');
}

function RoundCard({ round, max, latest, running, runId, actions }: { round: Round; max: number | null; latest: boolean; running: boolean; runId: string; actions?: TeamActions }) {
  // The latest round is open and earlier ones fold away, unless the reader chose otherwise.
  const [choice, setChoice] = useState<boolean | null>(null);
  const open = choice ?? latest;
  return (
    <li className="rounded-xl border border-zinc-200 bg-white shadow-xs dark:border-zinc-800 dark:bg-zinc-900" data-testid="round" data-round={round.n} data-verdict={round.verdict}>
      <div className="flex items-center">
        <button type="button" onClick={() => setChoice(!open)} aria-expanded={open} className="flex min-w-0 flex-1 items-center gap-3 px-3.5 py-2.5 text-left">
          <ChevronRight aria-hidden className={cx('size-4 shrink-0 text-zinc-400 transition-transform', open && 'rotate-90')} />
          <span className="text-sm font-semibold whitespace-nowrap" data-testid="round-label">
            Round {round.n}
            {max ? ` of ${max}` : ''}
          </span>
          <span className="hidden items-center gap-2.5 text-xs text-zinc-500 @sm:flex">
            {WRITER_AGENTS.map((a) => (
              <span key={a} className="inline-flex items-center gap-1" title={`${PHASE_LABEL[a]}: ${round.phases[a].status}`}>
                <PhaseIcon status={round.phases[a].status} className="size-3.5" />
                <span className="hidden @lg:inline">{PHASE_LABEL[a]}</span>
              </span>
            ))}
          </span>
          <span className="ml-auto flex items-center gap-2">
            {round.notes.length > 0 && (
              <span className="inline-flex items-center gap-1 text-xs text-indigo-700 dark:text-indigo-300" data-testid="round-notes-count">
                <NotebookPen aria-hidden className="size-3.5" />
                {round.notes.length} {round.notes.length === 1 ? 'note' : 'notes'}
              </span>
            )}
            <VerdictBadge round={round} />
          </span>
        </button>
        {actions && round.status === 'done' && (
          <span className="shrink-0 pr-2">
            <BranchButton
              point={{ from_round: round.n, run_id: runId }}
              onBranch={actions.branch}
              disabledReason={actions.disabledReason}
              label="Branch"
              title={`round ${round.n}`}
              testId="round-branch"
            />
          </span>
        )}
      </div>
      {open && round.notes.length > 0 && (
        <div className="border-t border-zinc-100 px-3.5 pt-3.5 dark:border-zinc-800">
          <RoundNotes notes={round.notes} done={round.status !== 'running'} />
        </div>
      )}
      {open && (
        <ol className={cx('space-y-4 px-3.5 py-3.5', round.notes.length === 0 && 'border-t border-zinc-100 dark:border-zinc-800')}>
          {WRITER_AGENTS.map((agent) => {
            const phase = round.phases[agent];
            return (
              <li key={agent} className="relative pl-9" data-testid={`phase-${agent}`} data-status={phase.status} data-kept={phase.kept ? 'true' : undefined}>
                <span className="absolute top-0 left-0">
                  <AgentAvatar agent={agent} active={phase.status === 'running'} />
                </span>
                <div className="mb-1.5 flex items-center gap-2 pt-1 text-sm">
                  <span className="font-medium">{PHASE_LABEL[agent]}</span>
                  <span className="text-xs text-zinc-500">{agentMeta(agent).label}</span>
                  <PhaseIcon status={phase.status} className="ml-auto size-3.5" />
                </div>
                {phase.kept ? (
                  <KeptReport />
                ) : phase.entries.length === 0 ? (
                  <p className="text-xs text-zinc-400">{phase.status === 'running' ? 'Working…' : phase.status === 'skipped' ? 'Did not run.' : 'Waiting…'}</p>
                ) : (
                  <AgentEntries entries={phase.entries} running={running} hideTool={agent === 'critic' ? isFeedback : undefined} />
                )}
                {agent === 'critic' && round.feedback.length > 0 && (
                  <details className="group/why mt-2 rounded-lg border border-amber-200/70 bg-amber-50/60 text-sm dark:border-amber-500/20 dark:bg-amber-500/5" data-testid="critic-reasons">
                    <summary className="flex items-center gap-1.5 px-2.5 py-1.5 font-medium text-amber-900 dark:text-amber-200">
                      <ChevronRight aria-hidden className="size-3.5 transition-transform group-open/why:rotate-90" />
                      The critic&apos;s reasons
                    </summary>
                    <div className="space-y-2 px-3 pb-2.5">
                      {round.feedback.map((f, i) => (
                        <Markdown key={i} text={f.replace(/\n/g, '\n\n')} className="md-sm text-amber-950 dark:text-amber-100" />
                      ))}
                    </div>
                  </details>
                )}
              </li>
            );
          })}
        </ol>
      )}
    </li>
  );
}

function LaneCard({ lane, running, actions }: { lane: Lane; running: boolean; actions?: TeamActions }) {
  const stage = LANE_STAGE[lane.agent];
  const meta = agentMeta(lane.agent);
  return (
    <div className="flex min-w-0 flex-col rounded-xl border border-zinc-200 bg-white shadow-xs dark:border-zinc-800 dark:bg-zinc-900" data-testid={`lane-${lane.agent}`} data-status={lane.status} data-kept={lane.kept ? 'true' : undefined}>
      <div className="flex items-center gap-2 border-b border-zinc-100 px-3 py-2 dark:border-zinc-800">
        <AgentAvatar agent={lane.agent} size="sm" active={lane.status === 'running'} />
        <span className="text-sm font-medium">{meta.label}</span>
        <span className="ml-auto flex items-center gap-1">
          {actions && stage && <RegenerateButton stage={stage} onRegenerate={actions.regenerate} disabledReason={actions.disabledReason ?? actions.regenerateReason} compact side="top" />}
          <PhaseIcon status={lane.status} className="size-3.5" />
        </span>
      </div>
      <div className="scrollbar-thin max-h-80 min-h-20 overflow-y-auto px-3 py-2.5">
        {lane.kept ? (
          <KeptReport />
        ) : lane.entries.length === 0 ? (
          <p className="text-xs text-zinc-400">{lane.status === 'skipped' ? 'Did not run.' : `${meta.role}. Waiting for the writers' room…`}</p>
        ) : (
          <AgentEntries entries={lane.entries} running={running} clamp={false} />
        )}
      </div>
    </div>
  );
}

function Stage({ label, status, last = false }: { label: string; status: PhaseStatus; last?: boolean }) {
  return (
    <li className={cx('flex items-center gap-2', last ? 'shrink-0' : 'min-w-0 flex-1')} data-testid="stage" data-status={status}>
      <span
        className={cx(
          'flex shrink-0 items-center gap-1.5 rounded-full px-2 py-1 text-xs font-medium whitespace-nowrap ring-1 ring-inset',
          status === 'running'
            ? 'bg-indigo-50 text-indigo-700 ring-indigo-600/20 dark:bg-indigo-500/10 dark:text-indigo-300'
            : status === 'done' || status === 'stopped'
              ? 'bg-white text-zinc-700 ring-zinc-200 dark:bg-zinc-900 dark:text-zinc-300 dark:ring-zinc-700'
              : 'bg-transparent text-zinc-400 ring-zinc-200 dark:ring-zinc-800',
        )}
      >
        <PhaseIcon status={status} className="size-3.5 shrink-0" />
        {label}
      </span>
      {!last && <span aria-hidden className="h-px min-w-2 flex-1 bg-zinc-200 dark:bg-zinc-800" />}
    </li>
  );
}

function TeamEmpty() {
  const groups = [
    { title: "Writers' room", note: 'loops until the critic approves', agents: [...WRITER_AGENTS] },
    { title: 'Preproduction', note: 'in parallel', agents: [...LANE_AGENTS] },
    { title: 'Pitch document', note: 'Markdown and PDF', agents: ['file_writer'] },
  ];
  return (
    <div className="px-5 py-8" data-testid="team-empty">
      <div className="mx-auto max-w-md text-center">
        <div className="mx-auto mb-4 flex size-11 items-center justify-center rounded-xl border border-zinc-200 bg-white shadow-xs dark:border-zinc-800 dark:bg-zinc-900">
          <Clapperboard aria-hidden className="size-5 text-zinc-500" />
        </div>
        <h3 className="text-sm font-semibold">The team starts when you name a subject</h3>
        <p className="mt-1.5 text-sm text-zinc-500 dark:text-zinc-400">
          Tell the greeter who the film is about. You will watch each agent work here, live.
        </p>
      </div>
      <ol className="mx-auto mt-6 max-w-md space-y-3">
        {groups.map((g) => (
          <li key={g.title} className="rounded-xl border border-dashed border-zinc-200 p-3 dark:border-zinc-800">
            <div className="text-xs font-semibold text-zinc-700 dark:text-zinc-300">
              {g.title} <span className="font-normal text-zinc-400">· {g.note}</span>
            </div>
            <ul className="mt-2 space-y-1.5">
              {g.agents.map((a) => (
                <li key={a} className="flex items-center gap-2 text-sm">
                  <AgentAvatar agent={a} size="sm" />
                  <span className="font-medium">{agentMeta(a).label}</span>
                  <span className="truncate text-xs text-zinc-500">{agentMeta(a).role}</span>
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ol>
    </div>
  );
}

/** What a run was asked, as a title: the person's words (without the chips' line), or the notes a follow-up applies. */
function runTitle(run: RunView): string {
  if (run.kind === 'regenerate') return `Regenerate ${regenerationText(run)}`;
  if (run.question.startsWith(FOLLOW_UP_PREFIX)) return run.question;
  const { text, direction } = splitQuestion(run.question);
  return direction.length ? `${text} (${direction.join(', ')})` : text;
}

export function TeamPanel({ runs, maxRounds, actions }: { runs: RunView[]; maxRounds: number | null; actions?: TeamActions }) {
  const teamRuns = runs.filter((r) => r.teamStarted);
  const [selected, setSelected] = useState<string | null>(null);
  // A new run (a regeneration, a revision) takes the panel.
  useEffect(() => setSelected(null), [teamRuns.length]);
  const run = teamRuns.find((r) => r.id === selected) ?? teamRuns[teamRuns.length - 1];
  if (!run) return <TeamEmpty />;
  const team = teamView(run, maxRounds);
  const running = run.status === 'running';
  const working = team.active.filter((a) => a !== 'greeter');
  const lastRound = team.rounds[team.rounds.length - 1];

  return (
    <div className="@container space-y-6 px-4 py-4" data-testid="team-panel" data-run-status={run.status}>
      <div className="flex flex-wrap items-center gap-2">
        <div className="min-w-0 flex-1">
          <div className="flex items-center gap-2">
            <h2 className="truncate text-sm font-semibold">{runTitle(run)}</h2>
            {(run.revision ?? 0) > 0 && (
              <span className="shrink-0 rounded-full bg-indigo-50 px-2 py-0.5 text-[0.6875rem] font-medium text-indigo-700 ring-1 ring-indigo-600/20 ring-inset dark:bg-indigo-500/10 dark:text-indigo-300" data-testid="run-revision">
                Revision {run.revision}
              </span>
            )}
            <StatusPill status={branchCut(run) ? 'branched' : run.status} />
          </div>
          <p className="text-xs text-zinc-500">
            {run.startedAt ? fullTime(run.startedAt) : null}
            {run.usage && (
              <span
                data-testid="run-usage"
                title={`${run.usage.promptTokens.toLocaleString()} prompt + ${run.usage.completionTokens.toLocaleString()} completion tokens`}
              >
                {run.startedAt ? ' · ' : ''}
                {compactNumber(run.usage.promptTokens + run.usage.completionTokens)} tokens in {plural(run.usage.calls, 'model call')}
                {run.usage.costUsd > 0 ? ` · ${formatUsd(run.usage.costUsd)}` : ''}
              </span>
            )}
          </p>
        </div>
        {teamRuns.length > 1 && (
          <label className="flex items-center gap-1.5 text-xs text-zinc-500">
            Run
            <select
              value={run.id}
              onChange={(e) => setSelected(e.target.value)}
              className="max-w-44 rounded-md border border-zinc-200 bg-white px-1.5 py-1 text-xs text-zinc-800 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-200"
            >
              {teamRuns.map((r, i) => (
                <option key={r.id} value={r.id}>
                  {i + 1}. {runTitle(r).slice(0, 40)}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>

      <div>
        <ol className="flex items-center gap-2" aria-label="Pipeline">
          <Stage label="Writers' room" status={team.stages.writers} />
          <Stage label="Preproduction" status={team.stages.preproduction} />
          <Stage label="File writer" status={team.stages.fileWriter} last />
        </ol>
        <p className="mt-2.5 flex min-h-5 items-center gap-2 text-xs text-zinc-600 dark:text-zinc-400" data-testid="active-agents" aria-live="polite">
          {running && working.length > 0 ? (
            <>
              <span className="size-1.5 animate-pulse rounded-full bg-indigo-500" />
              Working now: {working.map((a) => <strong key={a} className="font-medium text-zinc-900 dark:text-zinc-100" data-testid="active-agent">{agentMeta(a).label}</strong>).reduce<React.ReactNode[]>((acc, el, i) => (i ? [...acc, ' and ', el] : [el]), [])}
              {lastRound && working.some((a) => WRITER_AGENTS.includes(a as never)) && <span>· round {lastRound.n}{team.maxRounds ? ` of ${team.maxRounds}` : ''}</span>}
            </>
          ) : running ? (
            <>
              <span className="size-1.5 animate-pulse rounded-full bg-indigo-500" /> Handing over…
            </>
          ) : run.status === 'completed' ? (
            <>Finished{team.approved && lastRound ? ` · approved after ${plural(lastRound.n, 'round')}` : ''}.</>
          ) : branchCut(run) ? (
            <span data-testid="branch-cut">{branchCut(run)} What the team did after it stays in the parent session.</span>
          ) : run.status === 'cancelled' ? (
            <>Stopped. What the team did before is kept below.</>
          ) : (
            <>{run.status === 'interrupted' ? 'Interrupted by a server restart.' : 'The run failed.'} What the team did before is kept below.</>
          )}
        </p>
      </div>

      <section aria-labelledby="writers-room">
        <SectionTitle
          right={
            <span className="flex items-center gap-2">
              {team.currentRound > 0 && <span className="text-xs text-zinc-500" data-testid="round-counter">Round {team.currentRound}{team.maxRounds ? ` of ${team.maxRounds}` : ''}</span>}
              {actions && <RegenerateButton stage="writers_room" onRegenerate={actions.regenerate} disabledReason={actions.disabledReason ?? actions.regenerateReason} />}
            </span>
          }
        >
          <span id="writers-room">Writers&apos; room</span>
        </SectionTitle>
        {team.rounds.length === 0 ? (
          run.steps.writers_room?.kept || (run.kind === 'regenerate' && run.stage !== 'writers_room') ? (
            <p className="flex items-center gap-1.5 text-sm text-zinc-500" data-testid="writers-kept">
              <Archive aria-hidden className="size-4" /> Kept the current outline: this run redoes {regenerationText(run)} only.
            </p>
          ) : (
            <p className="text-sm text-zinc-500">{running ? 'Starting…' : 'The writers’ room did not run.'}</p>
          )
        ) : (
          <ol className="space-y-2.5" data-testid="rounds">
            {team.rounds.map((round, i) => (
              <RoundCard key={`${run.id}-${round.n}`} round={round} max={team.maxRounds} latest={i === team.rounds.length - 1} running={running} runId={run.id} actions={actions} />
            ))}
          </ol>
        )}
      </section>

      <section aria-labelledby="preproduction">
        <SectionTitle>
          <span id="preproduction">Preproduction</span>
        </SectionTitle>
        <div className="grid grid-cols-1 gap-2.5 @md:grid-cols-2" data-testid="lanes">
          {team.lanes.map((lane) => (
            <LaneCard key={lane.agent} lane={lane} running={running} actions={actions} />
          ))}
        </div>
      </section>

      <section aria-labelledby="file-writer" data-testid="file-writer" data-status={team.fileWriter.status}>
        <SectionTitle right={actions && <RegenerateButton stage="document" onRegenerate={actions.regenerate} disabledReason={actions.disabledReason ?? actions.regenerateReason} side="top" />}>
          <span id="file-writer">Pitch document</span>
        </SectionTitle>
        {team.fileWriter.entries.length === 0 ? (
          <p className="flex items-center gap-2 text-sm text-zinc-500">
            <MessageSquare aria-hidden className="size-4" />
            {team.fileWriter.status === 'running' ? 'The file writer is at work…' : team.fileWriter.status === 'skipped' ? 'Not written in this run.' : 'The file writer assembles the pitch once preproduction is done.'}
          </p>
        ) : (
          <div className="flex gap-3">
            <AgentAvatar agent="file_writer" active={team.fileWriter.status === 'running'} />
            <div className="min-w-0 flex-1">
              <AgentEntries entries={team.fileWriter.entries} running={running} />
            </div>
          </div>
        )}
      </section>
    </div>
  );
}
