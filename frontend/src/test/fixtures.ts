import type { HistoryItem, StateVersionOut } from '../api/client';
import type { Frame } from '../stream/frames';
import framesJson from './fixtures/pitch-frames.json';
import historyJson from './fixtures/pitch-history.json';
import statesJson from './fixtures/pitch-states.json';

/** Frames recorded from the real backend (offline model): a greeting run, then a full "Ada Lovelace" pitch. */
export const pitchFrames = framesJson as unknown as Frame[];
export const pitchHistory = (historyJson as unknown as { session_id: string; items: HistoryItem[] });
export const pitchStates = statesJson as unknown as StateVersionOut[];
export const SESSION_ID = pitchHistory.session_id;
