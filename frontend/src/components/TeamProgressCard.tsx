import { ArrowRight, Users } from 'lucide-react';

import { agentMeta } from '../stream/agents';
import { branchCut, teamView } from '../stream/selectors';
import type { RunView } from '../stream/types';
import { PhaseIcon } from './ui';

/** The team's progress in one card inside the chat; the team panel has the details. */
export function TeamProgressCard({ run, maxRounds, onOpen }: { run: RunView; maxRounds: number | null; onOpen: () => void }) {
  const team = teamView(run, maxRounds);
  const working = team.active.filter((a) => a !== 'greeter');
  const roundLabel = team.currentRound > 0 ? `round ${team.currentRound}${team.maxRounds ? ` of ${team.maxRounds}` : ''}` : null;
  const stages = [
    { key: 'writers', label: "Writers' room", status: team.stages.writers, note: team.approved ? 'approved' : branchCut(run) ? `branched after ${roundLabel ?? 'this point'}` : team.stages.writers === 'stopped' ? `stopped in ${roundLabel}` : roundLabel },
    { key: 'pre', label: 'Preproduction', status: team.stages.preproduction, note: null },
    { key: 'file', label: 'Pitch document', status: team.stages.fileWriter, note: null },
  ] as const;
  return (
    <div className="rounded-xl border border-zinc-200 bg-white p-3.5 shadow-xs dark:border-zinc-800 dark:bg-zinc-900" data-testid="team-card">
      <div className="flex items-center gap-2">
        <Users aria-hidden className="size-4 text-zinc-400" />
        <span className="text-sm font-medium">The film concept team</span>
        <button type="button" onClick={onOpen} className="ml-auto inline-flex items-center gap-1 text-xs font-medium text-indigo-600 hover:underline dark:text-indigo-400">
          Watch the team <ArrowRight aria-hidden className="size-3.5" />
        </button>
      </div>
      <ol className="mt-3 flex flex-wrap gap-x-6 gap-y-2">
        {stages.map((s) => (
          <li key={s.key} className="flex items-start gap-1.5 text-xs" data-stage={s.key} data-status={s.status}>
            <PhaseIcon status={s.status} className="mt-px shrink-0" />
            <span className="min-w-0">
              <span className="block font-medium whitespace-nowrap text-zinc-800 dark:text-zinc-200">{s.label}</span>
              {s.note && <span className="block whitespace-nowrap text-zinc-500">{s.note}</span>}
            </span>
          </li>
        ))}
      </ol>
      {run.status === 'running' && working.length > 0 && (
        <p className="mt-3 flex items-center gap-1.5 border-t border-zinc-100 pt-2.5 text-xs text-zinc-600 dark:border-zinc-800 dark:text-zinc-400" data-testid="now-working">
          <span className="size-1.5 animate-pulse rounded-full bg-indigo-500" />
          Now working: {working.map((a) => agentMeta(a).label).join(' and ')}
        </p>
      )}
    </div>
  );
}
