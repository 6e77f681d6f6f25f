/**
 * Everything one session view needs: the stream reducer fed by the socket and by REST loads
 * (history and its outline drafts, state), plus sending and stopping. The REST history is reloaded
 * whenever the reducer asks for it (a resync after a server restart, or a run whose start was missed).
 */
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';

import { api, ApiError, type Api, type Stage, type StateEditOut, type UndoOut } from '../api/client';
import { isControl, type ServerMessage, type Tone } from './frames';
import { draftsFromFrames, initialStreamState, runFromFrames, streamReducer } from './reducer';
import { useSessionSocket, type SocketOptions } from './useSessionSocket';

export interface UseSessionOptions {
  client?: Api;
  socket?: Pick<SocketOptions, 'url' | 'createSocket' | 'heartbeatMs'>;
  /** Called when a run starts or ends (news, not the replay a connection starts with), or the
   * session was archived meanwhile: the session list may have changed. */
  onSessionChange?: () => void;
}

/** Control error codes that refuse a message just sent (so a note waiting for its acknowledgement goes). */
const REFUSED_MESSAGE = new Set(['run_in_progress', 'too_many_notes', 'message_too_long', 'empty_message', 'bad_text', 'bad_frame', 'bad_request']);

/** How a producer's action (regenerate, edit, undo, branch) went: done, or refused with the server's reason. */
export type Outcome<T> =
  | { ok: true; value: T }
  | { ok: false; message: string; code: string | null; status: number; body: Record<string, unknown> | null };

export async function attempt<T>(action: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await action() };
  } catch (err) {
    if (err instanceof ApiError) return { ok: false, message: err.message, code: err.code, status: err.status, body: err.body };
    return { ok: false, message: err instanceof Error ? err.message : String(err), code: null, status: 0, body: null };
  }
}

export type LoadState = { status: 'loading' } | { status: 'ready' } | { status: 'error'; message: string; notFound: boolean };

export function useSession(sessionId: string, { client = api, socket, onSessionChange }: UseSessionOptions = {}) {
  const [state, dispatch] = useReducer(streamReducer, sessionId, initialStreamState);
  const [load, setLoad] = useState<LoadState>({ status: 'loading' });
  const [pending, setPending] = useState<string | null>(null);
  /** Notes sent while a run works, until the server acknowledges them (note_received). */
  const [pendingNotes, setPendingNotes] = useState<string[]>([]);
  /** The words of a note the server refused (a new subject during a run): back in the composer. */
  const [refused, setRefused] = useState<{ text: string; at: number } | null>(null);
  const pendingNotesRef = useRef<string[]>([]);
  useEffect(() => {
    pendingNotesRef.current = pendingNotes;
  }, [pendingNotes]);
  const [cancelling, setCancelling] = useState(false);
  const seenNotes = useRef(new Set<string>());
  const changeRef = useRef(onSessionChange);
  useEffect(() => {
    changeRef.current = onSessionChange;
  });

  const onFrame = useCallback((frame: ServerMessage) => {
    dispatch({ type: 'frame', frame });
    if (isControl(frame)) {
      if (frame.control === 'error') {
        setPending(null);
        // A refused note (a new subject during a run, too many notes): the notice says why.
        if (REFUSED_MESSAGE.has(frame.code)) {
          const first = pendingNotesRef.current[0];
          if (first !== undefined) setRefused({ text: first, at: Date.now() });
          setPendingNotes((notes) => notes.slice(1));
        }
        // Archived meanwhile (another tab, retention): the list, and so this view, learn it.
        if (frame.code === 'archived') changeRef.current?.();
      }
      if (frame.control === 'run_ended') {
        setCancelling(false);
        setPendingNotes([]);
      }
      return;
    }
    if (frame.type === 'RUN_STARTED') setPending(null);
    if (frame.type === 'CUSTOM' && frame.name === 'note_received' && !seenNotes.current.has(frame.value.noteId)) {
      // A note acknowledged for the first time (not a replay): the one sent with these words, or the oldest.
      seenNotes.current.add(frame.value.noteId);
      const text = frame.value.text;
      setPendingNotes((notes) => {
        const i = notes.indexOf(text);
        return i >= 0 ? notes.filter((_, j) => j !== i) : notes.slice(1);
      });
    }
    if (frame.type === 'RUN_FINISHED' || frame.type === 'RUN_ERROR') {
      setCancelling(false);
      setPendingNotes([]);
    }
  }, []);

  const { connection, send: sendFrame, retryNow } = useSessionSocket({ sessionId, onFrame, ...socket });

  // REST: history (with the outline drafts its state changes wrote) and current state; again on
  // every refresh request. Two requests, however many drafts: the timeline's frames carry them.
  const reload = useCallback(async () => {
    try {
      const [timeline, current] = await Promise.all([client.timeline(sessionId), client.state(sessionId)]);
      dispatch({ type: 'history', runs: timeline.runs.map((r) => runFromFrames(r.runId, r.frames)) });
      dispatch({ type: 'state', version: current.version, state: current.state });
      dispatch({ type: 'drafts', drafts: timeline.runs.flatMap((r) => draftsFromFrames(r.runId, r.frames)) });
      setLoad({ status: 'ready' });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const notFound = err instanceof ApiError && err.status === 404;
      setLoad((previous) => (previous.status === 'ready' && !notFound ? previous : { status: 'error', message, notFound }));
      if (!notFound) dispatch({ type: 'notice', code: 'load_failed', message });
    }
  }, [client, sessionId]);

  useEffect(() => {
    void reload();
  }, [reload, state.refreshToken]);

  // A run started or ended since this page connected: the session list may have changed. The
  // replay a connection starts with is not news (what it tells happened before; the view compares
  // the list with the hello instead, see SessionView), so opening a session reloads no list.
  useEffect(() => {
    if (state.runsToken > 0) changeRef.current?.();
  }, [state.runsToken]);

  useEffect(() => {
    if (state.activeRunId === null) setCancelling(false);
  }, [state.activeRunId]);

  const activeRunId = useRef(state.activeRunId);
  useEffect(() => {
    activeRunId.current = state.activeRunId;
  });

  /** A message to the greeter; while a run works, a producer's note for the writers' room. */
  const sendMessage = useCallback(
    async (content: string, direction: Tone[] = []): Promise<boolean> => {
      const text = content.trim();
      if (!text) return false;
      const note = activeRunId.current !== null;
      if (note) setPendingNotes((notes) => [...notes, text]);
      else setPending(text);
      const forget = () => (note ? setPendingNotes((notes) => notes.filter((n) => n !== text)) : setPending(null));
      if (sendFrame(direction.length ? { type: 'message', content: text, direction } : { type: 'message', content: text })) return true;
      // The socket is down: send over REST; the frames follow when the socket is back.
      try {
        await client.sendMessage(sessionId, text, direction);
        changeRef.current?.();
        return true;
      } catch (err) {
        forget();
        dispatch({ type: 'notice', code: 'send_failed', message: err instanceof Error ? err.message : String(err) });
        return false;
      }
    },
    [client, sendFrame, sessionId],
  );

  const cancel = useCallback(async () => {
    setCancelling(true);
    if (sendFrame({ type: 'cancel' })) return;
    try {
      await client.cancel(sessionId);
    } catch (err) {
      setCancelling(false);
      dispatch({ type: 'notice', code: 'cancel_failed', message: err instanceof Error ? err.message : String(err) });
    }
  }, [client, sendFrame, sessionId]);

  const resume = useCallback(
    async (runId: string) => {
      try {
        await client.resume(sessionId, runId);
        changeRef.current?.();
      } catch (err) {
        dispatch({ type: 'notice', code: 'resume_failed', message: err instanceof Error ? err.message : String(err) });
      }
    },
    [client, sessionId],
  );

  /** Runs one stage again; the run then streams on the socket like any other. */
  const regenerate = useCallback(
    async (stage: Stage) => {
      const outcome = await attempt(() => client.regenerate(sessionId, stage));
      if (outcome.ok) changeRef.current?.();
      return outcome;
    },
    [client, sessionId],
  );

  /** An edit by hand made on state version `expectedVersion`: the new state shows at once (its
   * small run follows on the socket). */
  const edit = useCallback(
    async (changes: { PLOT_OUTLINE?: string; direction?: string }, expectedVersion: number): Promise<Outcome<StateEditOut>> => {
      const outcome = await attempt(() => client.editState(sessionId, expectedVersion, changes));
      if (outcome.ok) dispatch({ type: 'state', version: outcome.value.version, state: outcome.value.state });
      return outcome;
    },
    [client, sessionId],
  );

  /** Takes back the last revision, regeneration or edit, in place. */
  const undo = useCallback(async (): Promise<Outcome<UndoOut>> => {
    const outcome = await attempt(() => client.undo(sessionId));
    if (outcome.ok) dispatch({ type: 'state', version: outcome.value.version, state: outcome.value.state });
    return outcome;
  }, [client, sessionId]);

  /** The current state from the server (an edit found it stale): applied, and returned. */
  const reloadState = useCallback(async () => {
    try {
      const current = await client.state(sessionId);
      dispatch({ type: 'state', version: current.version, state: current.state });
      return { version: current.version, state: current.state };
    } catch {
      return null;
    }
  }, [client, sessionId]);

  const dismissNotice = useCallback((id: number) => dispatch({ type: 'dismissNotice', id }), []);

  return { state, load, connection, pending, pendingNotes, refused, cancelling, sendMessage, cancel, resume, retryNow, reload, dismissNotice, regenerate, edit, undo, reloadState };
}

export type SessionHandle = ReturnType<typeof useSession>;
