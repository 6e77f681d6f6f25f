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
