import { describe, expect, it } from 'vitest';

import { frame, pitchFrames, SESSION_ID } from '../test/fixtures';
import type { Frame, ServerMessage } from './frames';
import { initialStreamState, runFromFrames, streamReducer } from './reducer';
import { branchCut, chatItems, isBusy, isProducerChange, lastTeamRun, producerChangeText, regenerationText, visibleRuns } from './selectors';
import type { RunView, SessionStreamState } from './types';

function feed(frames: ServerMessage[], state: SessionStreamState = initialStreamState(SESSION_ID)): SessionStreamState {
  return frames.reduce((s, f) => streamReducer(s, { type: 'frame', frame: f }), state);
}

const pitched = feed(pitchFrames);
const lastSeq = pitched.lastSeq;
const baseVersion = pitched.stateVersion;
const outline = String(pitched.state.PLOT_OUTLINE);
const edited = outline.replace(/\*\*Logline:\*\*[^\n]*/, '**Logline:** A countess bets her name on a machine nobody has built.');

/** The frames of a producer's change as the server sends them: a run of one state event, no agents. */
function changeRun(runId: string, kind: 'edit' | 'undo', question: string, value: string, seq = lastSeq + 1, version = baseVersion + 1): Frame[] {
  const before = { ...pitched.state };
  const after = { ...pitched.state, PLOT_OUTLINE: value, producer_edits: { sections: ['Logline'], revision: 0, version } };
  let n = seq;
  const f = (partial: Record<string, unknown>) => frame({ runId, seq: n++, ...partial });
  return [
    f({ type: 'RUN_STARTED', question, kind, timestamp: 5_000 }),
    f({ type: 'STATE_SNAPSHOT', snapshot: before, version: version - 1 }),
    f({
      type: 'STATE_DELTA',
      agent: 'producer',
      version,
      delta: [
        { op: 'replace', path: '/PLOT_OUTLINE', value },
        { op: 'add', path: '/producer_edits', value: after.producer_edits },
      ],
    }),
    f({ type: 'STATE_SNAPSHOT', snapshot: after, version }),
    f({ type: 'RUN_FINISHED', result: { status: 'completed' } }),
  ];
}

describe('a producer edit or undo on the stream', () => {
  it('is a run of its own, keyed by its run id: kind edit, no team, the state and a producer draft', () => {
    const frames = changeRun('edit-1', 'edit', 'Edited by hand: Logline', edited);
    const midway = feed(frames.slice(0, 3), pitched);
    expect(midway.activeRunId).toBe('edit-1'); // the actions wait for it like for any run
    expect(isBusy(midway)).toBe(true);

    const state = feed(frames.slice(3), midway);
    const run = state.live['edit-1']!;
    expect(run.kind).toBe('edit');
    expect(run.status).toBe('completed');
    expect(run.teamStarted).toBe(false);
    expect(isBusy(state)).toBe(false);
    expect(state.stateVersion).toBe(baseVersion + 1);
    expect(state.state.PLOT_OUTLINE).toBe(edited);
    expect(state.state.producer_edits).toEqual({ sections: ['Logline'], revision: 0, version: baseVersion + 1 });

    // The edited outline is the newest draft, by the producer.
    const last = state.drafts[state.drafts.length - 1]!;
    expect(last).toMatchObject({ version: baseVersion + 1, agent: 'producer', runId: 'edit-1', text: edited });

    // The runs: the pitch, then the edit; the team panel keeps showing the pitch's run.
    const runs = visibleRuns(state);
    expect(runs.map((r) => r.id).slice(-1)).toEqual(['edit-1']);
    expect(lastTeamRun(runs)?.id).not.toBe('edit-1');
    expect(isProducerChange(run)).toBe(true);
    expect(chatItems(run).filter((i) => i.kind === 'team')).toHaveLength(0);
    expect(producerChangeText(run)).toBe('You edited Logline');
  });

  it('applies a response state first, then the run frames without applying the delta twice', () => {
    const frames = changeRun('edit-2', 'edit', 'Edited by hand: Logline, Act II', edited);
    // The PATCH answer came before the socket's frames.
    const answered = streamReducer(pitched, { type: 'state', version: baseVersion + 1, state: { ...pitched.state, PLOT_OUTLINE: edited } });
    const state = feed(frames, answered);
    expect(state.state.PLOT_OUTLINE).toBe(edited);
    expect(state.stateVersion).toBe(baseVersion + 1);
    expect(state.drafts.filter((d) => d.version === baseVersion + 1)).toHaveLength(1);
    expect(producerChangeText(state.live['edit-2']!)).toBe('You edited Logline, Act II');
  });

  it('an undo, live or from the timeline, reads as one line', () => {
    const frames = changeRun('undo-1', 'undo', 'Undid the revision: make it funnier\n\nDirection: comedy', outline, lastSeq + 1);
    const live = feed(frames, pitched).live['undo-1']!;
    const stored = runFromFrames('undo-1', frames);
    for (const run of [live, stored]) {
      expect(run.kind).toBe('undo');
      expect(isProducerChange(run)).toBe(true);
      expect(producerChangeText(run)).toBe('You undid the revision “make it funnier”');
    }
    const text = (question: string) => producerChangeText({ ...live, question });
    expect(text('Undid the edit by hand: Edited by hand: Logline, Act II')).toBe('You undid your edit of Logline, Act II');
    expect(text('Undid the regeneration: Regenerate: the casting report')).toBe('You undid the regeneration of the casting report');
  });

  it('a regeneration keeps its kind and stage, and shows the team as usual', () => {
    const start = frame({ type: 'RUN_STARTED', runId: 'regen-1', seq: lastSeq + 1, question: 'Regenerate: the casting report', kind: 'regenerate', stage: 'casting' });
    const step = frame({ type: 'STEP_STARTED', runId: 'regen-1', seq: lastSeq + 2, agent: 'casting_agent', stepName: 'casting_agent', agentKind: 'llm', parent: 'preproduction_team' });
    const state = feed([start, step], pitched);
    const run: RunView = state.live['regen-1']!;
    expect(run).toMatchObject({ kind: 'regenerate', stage: 'casting', teamStarted: true });
    expect(regenerationText(run)).toBe('the casting report');
    expect(isProducerChange(run)).toBe(false);
    expect(runFromFrames('regen-1', [start, step]).stage).toBe('casting');
  });
});

describe('a branch point', () => {
  const cut = (result: Record<string, unknown>) =>
    runFromFrames('cut-run', [
      frame({ type: 'RUN_STARTED', runId: 'cut-run', question: 'Ada Lovelace', seq: 1 }),
      frame({ type: 'RUN_FINISHED', runId: 'cut-run', seq: 2, result }),
    ]);

  it('is read from RUN_FINISHED result.branchedAt, not from the words of the error', () => {
    const branched = cut({ status: 'cancelled', error: 'The branch starts at round 1 of this run.', branchedAt: { version: 7, round: 1 } });
    expect(branched.branchedAt).toEqual({ version: 7, round: 1 });
    expect(branchCut(branched)).toBe('The branch starts at round 1 of this run.');
    // A run cancelled by its producer is a stop, whatever its error says.
    expect(branchCut(cut({ status: 'cancelled', error: 'The branch starts at round 1 of this run.' }))).toBeNull();
    expect(branchCut(cut({ status: 'cancelled', branchedAt: { version: 12 } }))).toBe('The branch starts at state version 12 of this run.');
  });
});
