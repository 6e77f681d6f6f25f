import { describe, expect, it } from 'vitest';

import { frame, noteRunFrames, pitchFrames, pitchMessages, pitchTimeline, SESSION_ID } from '../test/fixtures';
import type { Frame, Hello, ServerMessage } from './frames';
import { draftsFromFrames, initialStreamState, runFromFrames, streamReducer } from './reducer';
import { chatItems, isBusy, noteBook, noteStatusLabel, splitQuestion, teamView, visibleRuns } from './selectors';
import type { MessageEntry, SessionStreamState } from './types';

function feed(frames: ServerMessage[], state: SessionStreamState = initialStreamState(SESSION_ID)): SessionStreamState {
  return frames.reduce((s, frame) => streamReducer(s, { type: 'frame', frame }), state);
}

const withSeq = pitchFrames;
const hello = pitchMessages[0] as Hello;
const pitchRunId = pitchFrames.find((f) => f.type === 'RUN_STARTED' && f.question === 'Ada Lovelace')!.runId!;

function messagesOf(state: SessionStreamState, agent: string): MessageEntry[] {
  const run = state.live[pitchRunId]!;
  return run.entries.filter((e): e is MessageEntry => e.kind === 'message' && e.agent === agent);
}

describe('streamReducer', () => {
  it('takes the stream id and model from the hello frame', () => {
    const state = feed([hello]);
    expect(state.stream).toBe(hello.stream);
    expect(state.model).toBe('offline');
    expect(state.lastSeq).toBe(0);
  });

  it('joins text chunks into one message per messageId and closes it on TEXT_MESSAGE_END', () => {
    const state = feed(pitchFrames);
    const greeter = messagesOf(state, 'greeter');
    expect(greeter).toHaveLength(1);
    expect(greeter[0]!.text).toMatch(/^\*\*Ada Lovelace\*\*: a fine subject/);
    expect(greeter[0]!.done).toBe(true);
    const chunks = pitchFrames.filter((f) => f.type === 'TEXT_MESSAGE_CONTENT' && f.messageId === greeter[0]!.id);
    expect(chunks.length).toBeGreaterThan(3);
    expect(greeter[0]!.text).toBe(chunks.map((f) => (f.type === 'TEXT_MESSAGE_CONTENT' ? f.delta : '')).join(''));
  });

  it('shows a run waiting for a free slot until its first step starts', () => {
    const started = pitchFrames.findIndex((f) => f.type === 'RUN_STARTED' && f.runId === pitchRunId);
    const lastSeq = pitchFrames[started]!.seq!;
    const queued: Frame = { type: 'CUSTOM', name: 'run_queued', value: { ahead: 3 }, runId: pitchRunId, seq: lastSeq + 0.5 };
    const waiting = feed([...pitchFrames.slice(0, started + 1), queued]);
    expect(waiting.live[pitchRunId]!.queuedAhead).toBe(3);
    expect(isBusy(waiting)).toBe(true);
    const firstStep = pitchFrames.findIndex((f, i) => i > started && f.type === 'STEP_STARTED');
    const running = feed(pitchFrames.slice(started + 1, firstStep + 1), waiting);
    expect(running.live[pitchRunId]!.queuedAhead).toBeNull();
  });

  it('shows a message while it streams, not done until its end frame', () => {
    const firstChunk = withSeq.findIndex((f) => f.type === 'TEXT_MESSAGE_CONTENT' && f.agent === 'screenwriter');
    const state = feed(pitchFrames.slice(0, firstChunk + 4));
    const [draft] = messagesOf(state, 'screenwriter');
    expect(draft!.done).toBe(false);
    expect(draft!.text.length).toBeGreaterThan(0);
    expect(isBusy(state)).toBe(true);
  });

  it('ignores frames it already applied (replays and duplicate seqs)', () => {
    const once = feed(pitchFrames);
    const twice = feed(withSeq, once);
    expect(twice).toBe(once);
    // Replaying a middle slice after a reconnect changes nothing either.
    const partial = feed(pitchFrames.slice(0, 120));
    const resumed = feed([hello, ...withSeq.slice(100)], partial);
    expect(resumed.live[pitchRunId]!.entries).toEqual(once.live[pitchRunId]!.entries);
    expect(resumed.lastSeq).toBe(once.lastSeq);
  });

  it('tracks agent steps, with the agents working right now', () => {
    const start = withSeq.findIndex((f) => f.type === 'STEP_STARTED' && f.agent === 'critic');
    const state = feed(withSeq.slice(0, start + 1));
    const run = state.live[pitchRunId]!;
    expect(run.steps.critic).toMatchObject({ status: 'running', iteration: 1, maxIterations: 5 });
    expect(run.steps.screenwriter?.status).toBe('done');
    expect(teamView(run).active).toEqual(['critic']);
  });

  it('groups the writers room into rounds: research, draft, critique, with verdicts', () => {
    const state = feed(pitchFrames);
    const team = teamView(state.live[pitchRunId]!);
    expect(team.maxRounds).toBe(5);
    expect(team.rounds.map((r) => r.n)).toEqual([1, 2]);
    const [one, two] = team.rounds;
    expect(one!.verdict).toBe('revise');
    expect(one!.feedback[0]).toMatch(/Act II needs a clear midpoint reversal/);
    expect(two!.verdict).toBe('approved');
    for (const round of team.rounds) {
      expect(round.phases.researcher.entries.some((e) => e.kind === 'tool' && e.name === 'wikipedia_search')).toBe(true);
      expect(round.phases.screenwriter.entries.some((e) => e.kind === 'message' && e.text.includes('**Title:**'))).toBe(true);
      expect(round.phases.critic.status).toBe('done');
    }
    expect(team.approved).toBe(true);
  });

  it('keeps the two preproduction lanes apart while their chunks interleave', () => {
    const state = feed(pitchFrames);
    const team = teamView(state.live[pitchRunId]!);
    const [boxOffice, casting] = team.lanes;
    expect(boxOffice!.agent).toBe('box_office_researcher');
    expect(casting!.agent).toBe('casting_agent');
    const text = (lane: typeof boxOffice) => lane!.entries.filter((e): e is MessageEntry => e.kind === 'message').map((e) => e.text).join('');
    expect(text(boxOffice)).toMatch(/^\*\*Box-office outlook/);
    expect(text(casting)).toMatch(/^\*\*Casting ideas/);
    expect(text(boxOffice)).not.toMatch(/Casting ideas/);
    // Both ran at once: each started before the other finished.
    const midway = withSeq.findIndex((f) => f.type === 'STEP_FINISHED' && f.agent === 'box_office_researcher');
    const during = teamView(feed(withSeq.slice(0, midway)).live[pitchRunId]!);
    expect(during.lanes.map((l) => l.status)).toEqual(['running', 'running']);
  });

  it('applies STATE_DELTA patches in version order and collects outline drafts', () => {
    const state = feed(pitchFrames);
    expect(state.state.PROMPT).toBe('Ada Lovelace');
    expect(state.stateVersion).toBe(8);
    expect(state.drafts.map((d) => d.version)).toEqual([3, 6]);
    expect(String(state.state.PLOT_OUTLINE)).toContain('**Title:** Ada Lovelace and the Reckoning');
    // A REST snapshot older than the socket's state does not roll it back.
    const after = streamReducer(state, { type: 'state', version: 2, state: { PROMPT: 'old' } });
    expect(after.state.PROMPT).toBe('Ada Lovelace');
  });

  it('records the saved document and finishes the run', () => {
    const state = feed(pitchFrames);
    const run = state.live[pitchRunId]!;
    expect(run.status).toBe('completed');
    expect(state.activeRunId).toBeNull();
    const items = chatItems(run);
    const artifact = items.find((i) => i.kind === 'artifact');
    expect(artifact && artifact.kind === 'artifact' && artifact.entry.markdownUrl).toMatch(/format=markdown$/);
    expect(items.filter((i) => i.kind === 'team')).toHaveLength(1);
    expect(state.documentsToken).toBe(1);
  });

  it('keeps partial work when a run is cancelled', () => {
    const cut = withSeq.findIndex((f) => f.type === 'TEXT_MESSAGE_CONTENT' && f.agent === 'screenwriter') + 5;
    const partial = feed(withSeq.slice(0, cut));
    const cancelled = feed([frame({ type: 'RUN_FINISHED', runId: pitchRunId, seq: 10_000, result: { status: 'cancelled', error: null } })], partial);
    const run = cancelled.live[pitchRunId]!;
    expect(run.status).toBe('cancelled');
    const [draft] = messagesOf(cancelled, 'screenwriter');
    expect(draft!.text).toBe(messagesOf(partial, 'screenwriter')[0]!.text);
    expect(draft!.done).toBe(true);
    expect(isBusy(cancelled)).toBe(false);
    expect(teamView(run).rounds[0]!.status).toBe('stopped');
  });

  it('continues a resumed run from what it had done, live or from the history', () => {
    const partial = feed(withSeq.slice(0, 120));
    const failed = feed([frame({ type: 'RUN_ERROR', runId: pitchRunId, seq: 5000, message: 'boom' })], partial);
    const resumed = feed([frame({ type: 'RUN_STARTED', runId: pitchRunId, question: 'Ada Lovelace', resumed: true, seq: 5001 })], failed);
    const run = resumed.live[pitchRunId]!;
    expect(run).toMatchObject({ status: 'running', error: null });
    expect(run.entries).toEqual(failed.live[pitchRunId]!.entries);
    expect(resumed.activeRunId).toBe(pitchRunId);

    const fromHistory = streamReducer(initialStreamState(SESSION_ID), { type: 'history', runs: [{ ...failed.live[pitchRunId]!, source: 'history', status: 'interrupted' }] });
    const again = feed([hello, frame({ type: 'RUN_STARTED', runId: pitchRunId, question: 'Ada Lovelace', resumed: true, seq: 1 })], fromHistory);
    expect(again.live[pitchRunId]!.entries.length).toBe(failed.live[pitchRunId]!.entries.length);
    expect(visibleRuns(again)).toHaveLength(1);
  });

  it('adds up the token usage of a run', () => {
    const started = feed(withSeq.slice(0, 30));
    const usage = (seq: number, promptTokens: number, completionTokens: number, runCostUsd: number): Frame => frame({
      type: 'CUSTOM', name: 'usage', runId: pitchRunId, seq,
      value: { agent: 'greeter', model: 'openai/gpt-4o-mini', promptTokens, completionTokens, costUsd: 0.001, runCostUsd },
    });
    const state = feed([usage(1000, 300, 50, 0.001), usage(1001, 400, 20, 0.0025)], started);
    expect(state.live[pitchRunId]!.usage).toEqual({ calls: 2, promptTokens: 700, completionTokens: 70, costUsd: 0.0025 });
  });

  it('marks a failed run with its error', () => {
    const started = feed(withSeq.slice(0, 30));
    const failed = feed([frame({ type: 'RUN_ERROR', runId: pitchRunId, seq: 500, message: 'litellm.RateLimitError: slow down', code: 'run_failed' })], started);
    expect(failed.live[pitchRunId]).toMatchObject({ status: 'failed', error: 'litellm.RateLimitError: slow down' });
  });

  it('starts over on a new stream (server restart): reload over REST, keep what was shown', () => {
    const before = feed(pitchFrames.slice(0, 200));
    const newHello: Hello = { ...hello, stream: 'fresh', lastSeq: 0, activeRunId: null };
    const after = feed([newHello, { control: 'resync', stream: 'fresh', lastSeq: 0, reason: 'new stream' }], before);
    expect(after.stream).toBe('fresh');
    expect(after.lastSeq).toBe(0);
    expect(after.live).toEqual({});
    expect(after.refreshToken).toBeGreaterThan(before.refreshToken);
    expect(after.activeRunId).toBeNull();
    expect(visibleRuns(after).map((r) => r.id)).toEqual(visibleRuns(before).map((r) => r.id));
    // Frames of the new stream, numbered from 1 again, apply.
    const next = feed([frame({ type: 'RUN_STARTED', runId: 'r2', question: 'Hypatia', seq: 1 })], after);
    expect(next.live.r2?.question).toBe('Hypatia');
  });

  it('takes the stored outcome of a run whose end never came over the stream', () => {
    const cut = pitchFrames.findIndex((f) => f.type === 'RUN_STARTED' && f.runId === pitchRunId) + 20;
    const running = feed([hello, ...pitchFrames.slice(0, cut)]);
    const again = feed([{ ...hello, lastSeq: running.lastSeq, activeRunId: null }], running);
    expect(again.refreshToken).toBe(running.refreshToken + 1);
    const stored = { ...running.live[pitchRunId]!, source: 'history' as const, status: 'interrupted' as const, error: 'The server stopped.' };
    const withHistory = streamReducer(again, { type: 'history', runs: [stored] });
    const shown = visibleRuns(withHistory).find((r) => r.id === pitchRunId)!;
    expect(shown).toMatchObject({ status: 'interrupted', error: 'The server stopped.', source: 'live' });
  });

  it('ignores frames of a run whose start it never saw, and asks for a reload when it ends', () => {
    const state = feed([hello, ...withSeq.slice(40, 60)]);
    expect(Object.keys(state.live)).toEqual([]);
    const ended = feed([frame({ type: 'RUN_FINISHED', runId: 'unknown', seq: 999, result: { status: 'completed' } })], state);
    expect(ended.refreshToken).toBe(state.refreshToken + 1);
  });

  it('replays what happened before the page connected without calling it news; what follows is news', () => {
    const lastSeq = Math.max(...pitchFrames.map((f) => f.seq ?? 0));
    const replayed = feed([{ ...hello, lastSeq }, ...pitchFrames]);
    // The replay builds the view (the runs, the drafts)...
    expect(replayed.live[pitchRunId]!.status).toBe('completed');
    expect(replayed.drafts.map((d) => d.version)).toEqual([3, 6]);
    // ...but reloads nothing: the REST loads read the same past.
    expect(replayed).toMatchObject({ replayUntil: lastSeq, runsToken: 0, runsEndedToken: 0, documentsToken: 0, refreshToken: 0 });
    expect(replayed.hello).toEqual({ activeRunId: null, lastSeq });

    const saved = { filename: 'pitch.md', version: 1, agent: 'file_writer', markdownUrl: '/md', pdfUrl: '/pdf' };
    const live = feed(
      [
        frame({ type: 'RUN_STARTED', runId: 'r2', question: 'make it darker', seq: lastSeq + 1 }),
        frame({ type: 'CUSTOM', name: 'artifact_saved', runId: 'r2', seq: lastSeq + 2, value: saved }),
        frame({ type: 'RUN_FINISHED', runId: 'r2', seq: lastSeq + 3 }),
      ],
      replayed,
    );
    expect(live).toMatchObject({ runsToken: 2, runsEndedToken: 1, documentsToken: 1 });

    // A reconnect's hello keeps the first one's mark: what it replays was missed, so it is news.
    const again = feed([{ ...hello, lastSeq: lastSeq + 5 }, frame({ type: 'RUN_STARTED', runId: 'r3', question: 'x', seq: lastSeq + 4 })], live);
    expect(again.replayUntil).toBe(lastSeq);
    expect(again.hello).toEqual({ activeRunId: null, lastSeq: lastSeq + 5 });
    expect(again.runsToken).toBe(3);

    // On a new stream (a server restart) everything is news.
    const fresh = feed([{ ...hello, stream: 'fresh', lastSeq: 3 }, frame({ type: 'RUN_STARTED', runId: 'r4', question: 'y', seq: 1 })], again);
    expect(fresh.replayUntil).toBe(0);
    expect(fresh.runsToken).toBe(4);
    // The end a run_ended control tells (the stream could not) is news too.
    expect(feed([{ control: 'run_ended', runId: 'r4', status: 'completed' }], fresh)).toMatchObject({ runsToken: 5, runsEndedToken: 2 });
  });

  it('reads the outline drafts from the timeline, as the live frames give them', () => {
    const drafts = pitchTimeline.runs.flatMap((r) => draftsFromFrames(r.runId, r.frames));
    const live = feed(pitchFrames).drafts;
    // The greeter's empty outline (version 1) is no draft.
    expect(drafts.map((d) => [d.version, d.agent])).toEqual([[3, 'screenwriter'], [6, 'screenwriter']]);
    expect(drafts.map((d) => d.text)).toEqual(live.map((d) => d.text));
    expect(drafts.every((d) => d.runId && d.at !== null)).toBe(true);
  });

  it('turns connection errors into notices', () => {
    const state = feed([{ control: 'error', code: 'run_in_progress', message: 'A run is already in progress for this session.', status: 409, runId: 'r1' }]);
    expect(state.notices).toEqual([{ id: 1, code: 'run_in_progress', message: 'A run is already in progress for this session.' }]);
    expect(state.activeRunId).toBe('r1');
    const dismissed = streamReducer(state, { type: 'dismissNotice', id: 1 });
    expect(dismissed.notices).toEqual([]);
  });
});

describe('producer notes', () => {
  const frames = noteRunFrames('rev');
  const upTo = (name: string) => frames.slice(0, frames.findIndex((f) => f.type === 'CUSTOM' && f.name === name) + 1);
  const statusAfter = (slice: Frame[]) => {
    const state = feed(slice);
    const runs = visibleRuns(state);
    return noteBook(runs, state.state).get('n1');
  };

  it('follows a note said during a run: queued, taken in its round, judged by the critic', () => {
    expect(statusAfter(upTo('note_received'))).toMatchObject({ status: 'queued', runId: 'rev', text: 'make it darker' });
    expect(noteStatusLabel(statusAfter(upTo('note_received')))).toBe('queued');
    const taken = statusAfter(upTo('note_taken'));
    expect(taken).toMatchObject({ status: 'taken', round: 2, revision: 1 });
    expect(noteStatusLabel(taken)).toBe('taken in round 2');
    const judged = statusAfter(upTo('note_verdict'));
    expect(judged).toMatchObject({ status: 'addressed', verdict: 'The second act now ends in a betrayal.' });
    expect(noteStatusLabel(judged)).toBe('addressed');

    const state = feed(frames);
    const run = state.live.rev!;
    expect(run.revision).toBe(1);
    // The chat shows the note where it was said, after the hand-over.
    const items = chatItems(run, noteBook([run]));
    expect(items.map((i) => i.kind)).toEqual(['team', 'note']);
    // The writers' room round that took it lists it with the verdict; round 1 took nothing.
    const team = teamView(run);
    expect(team.rounds.map((r) => r.notes.length)).toEqual([0, 1]);
    expect(team.rounds[1]!.notes[0]).toEqual({ id: 'n1', text: 'make it darker', addressed: true, verdict: 'The second act now ends in a betrayal.' });
    // Replayed frames change nothing.
    expect(feed(frames, state)).toBe(state);
  });

  it('shows an agent a revision passed over as having kept its report', () => {
    const run = feed(frames).live.rev!;
    const [boxOffice, casting] = teamView(run).lanes;
    expect(casting).toMatchObject({ agent: 'casting_agent', kept: true, status: 'done', entries: [] });
    expect(boxOffice).toMatchObject({ kept: false, status: 'done' });
    expect(run.steps.casting_agent?.kept).toBe(true);
    // A later, normal step of the same agent is not kept.
    const again = feed([frame({ type: 'STEP_STARTED', runId: 'rev', seq: 900, agent: 'casting_agent', stepName: 'casting_agent' })], feed(frames));
    expect(again.live.rev!.steps.casting_agent?.kept).toBeUndefined();
  });

  it('rebuilds the same notes, rounds and kept steps from the stored timeline', () => {
    const live = feed(frames).live.rev!;
    const stored = runFromFrames('rev', frames.map((f) => ({ ...f, seq: undefined })) as Frame[]);
    expect(stored.question).toBe(live.question);
    expect(stored.notes).toEqual(live.notes);
    expect(stored.entries).toEqual(live.entries);
    expect(stored.steps).toEqual(live.steps);
    expect(teamView(stored).rounds.map((r) => r.notes)).toEqual(teamView(live).rounds.map((r) => r.notes));
    expect(teamView(stored).lanes.map((l) => l.kept)).toEqual([false, true]);
  });

  it('keeps a note for the next run when its run stops, and shows it once where it was said', () => {
    const said = [
      frame({ type: 'RUN_STARTED', runId: 'a', question: 'Ada Lovelace', seq: 1 }),
      frame({ type: 'CUSTOM', name: 'note_received', runId: 'a', seq: 2, value: { noteId: 'n9', text: 'more Babbage', keptForNextRun: false } }),
      frame({ type: 'CUSTOM', name: 'note_received', runId: 'a', seq: 3, value: { noteId: 'n9', text: 'more Babbage', keptForNextRun: true } }),
      frame({ type: 'RUN_FINISHED', runId: 'a', seq: 4, result: { status: 'cancelled' } }),
    ];
    const stopped = feed(said);
    expect(noteBook(visibleRuns(stopped)).get('n9')).toMatchObject({ status: 'kept', runId: 'a' });
    expect(noteStatusLabel(noteBook(visibleRuns(stopped)).get('n9'))).toBe('kept for the next run');

    // The next run says it again (kept), takes it and the critic finds it not addressed.
    const next = feed([
      frame({ type: 'RUN_STARTED', runId: 'b', question: 'go on', seq: 5 }),
      frame({ type: 'CUSTOM', name: 'note_received', runId: 'b', seq: 6, value: { noteId: 'n9', text: 'more Babbage', keptForNextRun: true } }),
      frame({ type: 'CUSTOM', name: 'note_taken', runId: 'b', seq: 7, value: { noteId: 'n9', text: 'more Babbage', round: 1, revision: 2 } }),
      frame({ type: 'CUSTOM', name: 'note_verdict', runId: 'b', seq: 8, value: { noteId: 'n9', text: 'more Babbage', addressed: false, verdict: 'Babbage is still offstage.' } }),
    ], stopped);
    const runs = visibleRuns(next);
    const book = noteBook(runs);
    expect(book.get('n9')).toMatchObject({ status: 'not_addressed', runId: 'a', round: 1, verdict: 'Babbage is still offstage.', revision: 2 });
    expect(chatItems(runs[0]!, book).filter((i) => i.kind === 'note')).toHaveLength(1);
    expect(chatItems(runs[1]!, book).filter((i) => i.kind === 'note')).toHaveLength(0);
    expect(teamView(runs[1]!).rounds[0]!.notes[0]).toMatchObject({ addressed: false, verdict: 'Babbage is still offstage.' });
  });

  it('takes where a note stands from the session state when its frames were missed', () => {
    const state = feed(upTo('note_received'));
    const withState = streamReducer(state, {
      type: 'state', version: 99,
      state: { producer_notes: [{ id: 'n1', text: 'make it darker', status: 'not_addressed', round: 1, revision: 1, addressed: false, verdict: 'Too sunny.' }] },
    });
    expect(noteBook(visibleRuns(withState), withState.state).get('n1')).toMatchObject({ status: 'not_addressed', verdict: 'Too sunny.', runId: 'rev' });
  });

  it('does not count an approval the server refused while a note was open', () => {
    const refused = feed([
      ...frames.slice(0, frames.findIndex((f) => f.type === 'STEP_STARTED' && f.agent === 'critic' && f.iteration === 2) + 1),
      frame({ type: 'TOOL_CALL_START', runId: 'rev', seq: 500, toolCallId: 'x', toolCallName: 'exit_loop', agent: 'critic' }),
      frame({ type: 'TOOL_CALL_RESULT', runId: 'rev', seq: 501, toolCallId: 'x', messageId: 'm', content: '{"status": "error", "message": "notes are open"}', agent: 'critic' }),
    ]);
    expect(teamView(refused.live.rev!).rounds[1]!.verdict).toBe('pending');
  });

  it('splits the direction chips off a question', () => {
    expect(splitQuestion('Ada Lovelace\n\nDirection: thriller, darker')).toEqual({ text: 'Ada Lovelace', direction: ['thriller', 'darker'] });
    expect(splitQuestion('Ada Lovelace')).toEqual({ text: 'Ada Lovelace', direction: [] });
  });
});
