import type { StateVersionOut } from '../api/client';
import type { Frame, RunTimeline, ServerMessage } from '../stream/frames';
import framesJson from './fixtures/pitch-frames.json';
import statesJson from './fixtures/pitch-states.json';
import timelineJson from './fixtures/pitch-timeline.json';

/**
 * Recorded from the real backend (offline model) by scripts/record_ui_fixtures.py: what a socket
 * received (the hello, then the frames of a greeting run and a full "Ada Lovelace" pitch), the
 * session's timeline (GET /timeline) and its state versions.
 */
export const pitchMessages = framesJson as unknown as ServerMessage[];
export const pitchFrames = pitchMessages.filter((m): m is Frame => 'type' in m);
export const pitchTimeline = timelineJson as unknown as RunTimeline;
export const pitchStates = statesJson as unknown as StateVersionOut[];
export const SESSION_ID = pitchTimeline.sessionId;

/** Test fixtures name only the fields a test cares about; the rest of a frame is filled in. */
export function frame(partial: Record<string, unknown>): Frame {
  const defaults: Record<string, Record<string, unknown>> = {
    RUN_STARTED: { threadId: SESSION_ID, question: '', resumed: false },
    RUN_FINISHED: { threadId: SESSION_ID, result: { status: 'completed' } },
    RUN_ERROR: { status: 'failed', resumable: false },
  };
  return { ...(defaults[String(partial.type)] ?? {}), ...partial } as unknown as Frame;
}

/** A revision run in frames: a note said during round 1, taken in round 2 and judged by the critic;
 * casting passed over (it kept its report), box office rerun. Seqs from `seq`. */
export function noteRunFrames(runId: string, { seq = 1, noteId = 'n1', text = 'make it darker', addressed = true } = {}): Frame[] {
  let n = seq;
  const f = (partial: Record<string, unknown>) => frame({ runId, seq: n++, ...partial });
  const step = (type: 'STEP_STARTED' | 'STEP_FINISHED', agent: string, extra: Record<string, unknown> = {}) =>
    f({ type, agent, stepName: agent, agentKind: 'llm', ...extra });
  const round = (iteration: number) => ({ parent: 'writers_room', iteration, maxIterations: 5 });
  return [
    f({ type: 'RUN_STARTED', question: 'Ada Lovelace\n\nDirection: thriller', timestamp: 1_000 }),
    step('STEP_STARTED', 'greeter'),
    step('STEP_FINISHED', 'greeter', { handedOffTo: 'film_concept_team' }),
    f({ type: 'STEP_STARTED', agent: 'writers_room', stepName: 'writers_room', agentKind: 'loop', parent: 'film_concept_team' }),
    step('STEP_STARTED', 'researcher', round(1)),
    f({ type: 'CUSTOM', name: 'note_received', agent: 'producer', value: { noteId, text, keptForNextRun: false }, timestamp: 1_500 }),
    step('STEP_FINISHED', 'researcher', round(1)),
    step('STEP_STARTED', 'screenwriter', round(1)),
    step('STEP_FINISHED', 'screenwriter', round(1)),
    step('STEP_STARTED', 'critic', round(1)),
    step('STEP_FINISHED', 'critic', round(1)),
    step('STEP_STARTED', 'researcher', round(2)),
    f({ type: 'CUSTOM', name: 'note_taken', agent: 'researcher', value: { noteId, text, round: 2, revision: 1 } }),
    step('STEP_FINISHED', 'researcher', round(2)),
    step('STEP_STARTED', 'screenwriter', round(2)),
    step('STEP_FINISHED', 'screenwriter', round(2)),
    step('STEP_STARTED', 'critic', round(2)),
    f({
      type: 'CUSTOM', name: 'note_verdict', agent: 'critic',
      value: { noteId, text, addressed, round: 2, verdict: addressed ? 'The second act now ends in a betrayal.' : 'Still as sunny as before.' },
    }),
    step('STEP_FINISHED', 'critic', round(2)),
    f({ type: 'STEP_FINISHED', agent: 'writers_room', stepName: 'writers_room', agentKind: 'loop', parent: 'film_concept_team' }),
    step('STEP_STARTED', 'box_office_researcher', { parent: 'preproduction_team' }),
    step('STEP_STARTED', 'casting_agent', { parent: 'preproduction_team' }),
    step('STEP_FINISHED', 'casting_agent', { parent: 'preproduction_team', kept: true }),
    f({ type: 'TEXT_MESSAGE_START', messageId: `${runId}-bo`, agent: 'box_office_researcher', role: 'assistant' }),
    f({ type: 'TEXT_MESSAGE_CONTENT', messageId: `${runId}-bo`, agent: 'box_office_researcher', delta: '**Box-office outlook:** darker sells.' }),
    f({ type: 'TEXT_MESSAGE_END', messageId: `${runId}-bo`, agent: 'box_office_researcher' }),
    step('STEP_FINISHED', 'box_office_researcher', { parent: 'preproduction_team' }),
    f({ type: 'RUN_FINISHED', result: { status: 'completed' } }),
  ];
}
