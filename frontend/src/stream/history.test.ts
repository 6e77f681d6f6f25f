import { describe, expect, it } from 'vitest';

import { pitchFrames, pitchHistory, pitchStates, SESSION_ID } from '../test/fixtures';
import { runsFromHistory } from './history';
import { initialStreamState, streamReducer } from './reducer';
import { chatItems, teamView, visibleRuns } from './selectors';

describe('runs rebuilt from the REST history', () => {
  const runs = runsFromHistory(SESSION_ID, pitchHistory.items, pitchStates);
  const pitch = runs[1]!;

  it('keeps every question in order with its status', () => {
    expect(runs.map((r) => [r.question, r.status])).toEqual([
      ['hello', 'completed'],
      ['Ada Lovelace', 'completed'],
    ]);
    expect(runs[0]!.teamStarted).toBe(false);
    expect(pitch.teamStarted).toBe(true);
  });

  it('infers the writers room rounds from the order of the agents', () => {
    const team = teamView(pitch, 5);
    expect(team.rounds.map((r) => r.n)).toEqual([1, 2]);
    expect(team.rounds[0]!.verdict).toBe('revise');
    expect(team.rounds[1]!.verdict).toBe('approved');
    expect(team.rounds[0]!.feedback).toHaveLength(1);
    expect(team.maxRounds).toBe(5);
    expect(team.lanes.map((l) => l.status)).toEqual(['done', 'done']);
  });

  it('pairs tool calls with their results and finds the saved document', () => {
    const search = pitch.entries.find((e) => e.kind === 'tool' && e.name === 'wikipedia_search');
    expect(search && search.kind === 'tool' && JSON.parse(search.result ?? '{}').results[0].title).toBe('Ada Lovelace');
    const artifact = chatItems(pitch).find((i) => i.kind === 'artifact');
    expect(artifact && artifact.kind === 'artifact' && artifact.entry.pdfUrl).toBe(
      `/api/v1/sessions/${SESSION_ID}/pitches/ada-lovelace-and-the-reckoning.md?version=0&format=pdf`,
    );
  });

  it('shows the text of a model turn before the tool calls of the same turn, as live', () => {
    const greeter = pitch.entries.filter((e) => e.agent === 'greeter').map((e) => (e.kind === 'tool' ? e.name : e.kind));
    expect(greeter.slice(0, 2)).toEqual(['message', 'append_to_state']);
    const kinds = (agent: string, round: number) =>
      pitch.entries.filter((e) => e.agent === agent && e.round === round && e.kind !== 'state').map((e) => (e.kind === 'tool' ? e.name : e.kind));
    // Calls of earlier turns stay before the text.
    expect(kinds('researcher', 1)).toEqual(['wikipedia_search', 'append_to_state', 'message']);
    expect(kinds('critic', 1)).toEqual(['append_to_state', 'message']);
    expect(kinds('critic', 2)).toEqual(['message', 'exit_loop']);
  });

  it('takes the token usage of each run from the usage report', () => {
    const [, withUsage] = runsFromHistory(SESSION_ID, pitchHistory.items, pitchStates, {
      [pitch.id]: { calls: 17, prompt_tokens: 43478, completion_tokens: 1882, cost_usd: 0 },
    });
    expect(withUsage!.usage).toEqual({ calls: 17, promptTokens: 43478, completionTokens: 1882, costUsd: 0 });
    expect(pitch.usage).toBeNull();
  });

  it('adds the state snapshots of each run', () => {
    const versions = pitch.entries.flatMap((e) => (e.kind === 'state' ? [e.version] : []));
    expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('is replaced by the live run when the socket replays the same run', () => {
    let state = streamReducer(initialStreamState(SESSION_ID), { type: 'history', runs });
    state = pitchFrames.reduce((s, frame) => streamReducer(s, { type: 'frame', frame }), state);
    const shown = visibleRuns(state);
    expect(shown).toHaveLength(2);
    expect(shown.every((r) => r.source === 'live')).toBe(true);
  });

  it('shows an interrupted run with the reason', () => {
    const item = { ...pitchHistory.items[1]!, question: { ...pitchHistory.items[1]!.question, run_status: 'interrupted', run_error: 'The server stopped while this run was in progress; send the message again to retry.' } };
    const [run] = runsFromHistory(SESSION_ID, [item]);
    expect(run!.status).toBe('interrupted');
    expect(run!.error).toMatch(/server stopped/);
  });
});
