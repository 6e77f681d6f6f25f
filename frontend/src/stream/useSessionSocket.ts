/**
 * The one hook that owns a session's WebSocket: connects, follows the stream, reconnects with
 * exponential backoff, and resumes from the last sequence number it saw (`after` + `stream`), so
 * the server replays only what was missed. It does not interpret frames: it hands them over.
 */
import { useCallback, useEffect, useRef, useState } from 'react';

import { reportSignedOut } from '../api/client';
import { isControl, isHello, isResync, isServerMessage, type ClientFrame, type ControlError, type ServerMessage } from './frames';

/** `refused`: the server will not take this page's socket (its origin is not allowed); final. */
export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'not_found' | 'refused';

export interface ConnectionInfo {
  status: ConnectionStatus;
  /** Failed attempts in a row (0 while connected). */
  attempt: number;
  /** When the next attempt starts (epoch ms), while reconnecting. */
  retryAt: number | null;
  /** Set when a dropped connection came back (epoch ms), for a short "reconnected" notice. */
  reconnectedAt: number | null;
  /** Why, in words, when the server refused the socket (refused) or asked it to wait (rate limited). */
  reason?: string | null;
}

export interface SocketOptions {
  sessionId: string;
  onFrame: (message: ServerMessage) => void;
  /** Builds the socket URL; tests and other hosts can override it. */
  url?: (sessionId: string, after: number, stream: string | null) => string;
  createSocket?: (url: string) => WebSocket;
  heartbeatMs?: number;
}

export const CLOSE_NOT_FOUND = 4404;
/** The server closes with this when the caller is not signed in (an expired or ended sign-in). */
export const CLOSE_NOT_SIGNED_IN = 4401;
/** The page's origin is not one the server accepts: retrying cannot help. */
export const CLOSE_ORIGIN_REFUSED = 4403;
/** Too many sockets or requests: wait the `retryAfter` of the error frame before it, then retry. */
export const CLOSE_RATE_LIMITED = 4429;
const ORIGIN_REFUSED_MESSAGE =
  'The server refused the live connection from this address. Open the app at the address the server is set up for (its PUBLIC_URL).';
const MAX_BACKOFF_MS = 8000;

export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + random() * 0.4));
}

export function defaultSocketUrl(sessionId: string, after: number, stream: string | null): string {
  const { protocol, host } = window.location;
  const params = new URLSearchParams({ after: String(after) });
  if (stream) params.set('stream', stream);
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}/api/v1/ws/${encodeURIComponent(sessionId)}?${params}`;
}

/** Mirrors the reducer's cursor (stream id, last seq) so that a reconnect asks for the right frames. */
export function advanceCursor(cursor: { stream: string | null; lastSeq: number }, message: ServerMessage) {
  if (isHello(message)) {
    const stream = message.stream ?? null;
    if (cursor.stream !== null && cursor.stream !== stream) return { stream, lastSeq: 0 };
    return { stream, lastSeq: cursor.lastSeq };
  }
  if (isResync(message)) {
    const stream = message.stream ?? null;
    if (message.reason === 'frames trimmed' && stream === cursor.stream) return cursor;
    return { stream, lastSeq: 0 };
  }
  const seq = (message as { seq?: number | null }).seq;
  if (typeof seq === 'number' && seq > cursor.lastSeq) return { ...cursor, lastSeq: seq };
  return cursor;
}

export function useSessionSocket({ sessionId, onFrame, url = defaultSocketUrl, createSocket, heartbeatMs = 25000 }: SocketOptions) {
  const [connection, setConnection] = useState<ConnectionInfo>({ status: 'connecting', attempt: 0, retryAt: null, reconnectedAt: null });
  const socketRef = useRef<WebSocket | null>(null);
  const retryNowRef = useRef<() => void>(() => {});
  const onFrameRef = useRef(onFrame);
  const urlRef = useRef(url);
  const createRef = useRef(createSocket);

  useEffect(() => {
    onFrameRef.current = onFrame;
    urlRef.current = url;
    createRef.current = createSocket;
  });

  useEffect(() => {
    let disposed = false;
    let attempt = 0;
    let dropped = false;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    let lastHeard = Date.now();
    let cursor: { stream: string | null; lastSeq: number } = { stream: null, lastSeq: 0 };

    const stopHeartbeat = () => {
      if (heartbeat !== undefined) clearInterval(heartbeat);
      heartbeat = undefined;
    };

    // The last error frame: the server sends one (with its reason, and retryAfter when rate
    // limited) just before it closes a socket it refuses.
    let lastError: ControlError | null = null;
    let refused = false; // closed 4403: nothing reopens it (not "retry now", not coming back online)

    /** `waitMs`: at least this long (the server's Retry-After), else the usual backoff. */
    const scheduleReconnect = (waitMs = 0, reason: string | null = null) => {
      if (disposed) return;
      attempt += 1;
      const delay = Math.max(backoffDelay(attempt), waitMs);
      setConnection((c) => ({ ...c, status: 'reconnecting', attempt, retryAt: Date.now() + delay, reason }));
      retryTimer = setTimeout(connect, delay);
    };

    function connect() {
      if (disposed) return;
      clearTimeout(retryTimer);
      const address = urlRef.current(sessionId, cursor.lastSeq, cursor.stream);
      let socket: WebSocket;
      try {
        socket = createRef.current ? createRef.current(address) : new WebSocket(address);
      } catch {
        scheduleReconnect();
        return;
      }
      socketRef.current = socket;

      socket.onmessage = (event: MessageEvent) => {
        if (disposed || socketRef.current !== socket) return;
        lastHeard = Date.now();
        let frame: unknown;
        try {
          frame = JSON.parse(String(event.data));
        } catch {
          return;
        }
        if (!isServerMessage(frame)) return;
        cursor = advanceCursor(cursor, frame);
        if (isControl(frame) && frame.control === 'error') lastError = frame;
        if (isHello(frame)) {
          const wasDropped = dropped;
          attempt = 0;
          dropped = false;
          lastError = null;
          setConnection((c) => ({ status: 'open', attempt: 0, retryAt: null, reconnectedAt: wasDropped ? Date.now() : c.reconnectedAt }));
          stopHeartbeat();
          heartbeat = setInterval(() => {
            if (socket.readyState !== WebSocket.OPEN) return;
            if (Date.now() - lastHeard > heartbeatMs * 2.5) {
              socket.close(); // silent for too long: assume the connection is dead
              return;
            }
            socket.send(JSON.stringify({ type: 'ping' }));
          }, heartbeatMs);
        }
        onFrameRef.current(frame);
      };

      socket.onclose = (event: CloseEvent) => {
        if (socketRef.current !== socket) return;
        socketRef.current = null;
        stopHeartbeat();
        if (disposed) return;
        if (event.code === CLOSE_NOT_FOUND) {
          setConnection({ status: 'not_found', attempt: 0, retryAt: null, reconnectedAt: null });
          return;
        }
        if (event.code === CLOSE_NOT_SIGNED_IN) {
          reportSignedOut(); // retrying cannot help: the page goes back to sign-in
          return;
        }
        const refusal = lastError;
        lastError = null;
        if (event.code === CLOSE_ORIGIN_REFUSED) {
          // Retrying from the same page cannot help: say so and stop.
          const reason = refusal?.code === 'origin_refused' && refusal.message ? refusal.message : ORIGIN_REFUSED_MESSAGE;
          refused = true;
          setConnection({ status: 'refused', attempt: 0, retryAt: null, reconnectedAt: null, reason });
          return;
        }
        dropped = true;
        if (event.code === CLOSE_RATE_LIMITED) {
          const seconds = refusal?.retryAfter ?? 0;
          scheduleReconnect(Math.max(0, seconds) * 1000, refusal?.message || 'Too many requests.');
          return;
        }
        scheduleReconnect();
      };
      socket.onerror = () => {
        // A close event always follows; reconnecting is handled there.
      };
    }

    retryNowRef.current = () => {
      if (disposed || refused || socketRef.current) return;
      clearTimeout(retryTimer);
      setConnection((c) => ({ ...c, status: 'reconnecting', retryAt: null }));
      connect();
    };
    const onOnline = () => retryNowRef.current();
    window.addEventListener('online', onOnline);

    connect();
    return () => {
      disposed = true;
      clearTimeout(retryTimer);
      stopHeartbeat();
      window.removeEventListener('online', onOnline);
      const socket = socketRef.current;
      socketRef.current = null;
      if (socket) {
        socket.onmessage = null;
        socket.onclose = null;
        socket.onerror = null;
        // Closing a socket that is still connecting makes browsers log an error: close it once open.
        if (socket.readyState === WebSocket.CONNECTING) socket.onopen = () => socket.close(1000, 'leaving');
        else if (socket.readyState === WebSocket.OPEN) socket.close(1000, 'leaving');
      }
    };
  }, [sessionId, heartbeatMs]);

  /** Sends a client frame; false when the socket is not open. */
  const send = useCallback((frame: ClientFrame): boolean => {
    const socket = socketRef.current;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }, []);

  const retryNow = useCallback(() => retryNowRef.current(), []);

  return { connection, send, retryNow };
}
