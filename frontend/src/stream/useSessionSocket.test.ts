import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { onApiFailure, type ApiError } from '../api/client';
import { FakeSocket, helloFrame } from '../test/fakeSocket';
import type { ServerMessage } from './frames';
import { advanceCursor, backoffDelay, useSessionSocket } from './useSessionSocket';

const url = (id: string, after: number, stream: string | null) => `ws://test/${id}?after=${after}${stream ? `&stream=${stream}` : ''}`;

function setup() {
  const frames: ServerMessage[] = [];
  const hook = renderHook(() =>
    useSessionSocket({ sessionId: 's1', onFrame: (f) => frames.push(f), url, createSocket: (u) => new FakeSocket(u) as unknown as WebSocket }),
  );
  return { frames, hook };
}

describe('useSessionSocket', () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.useFakeTimers();
    vi.stubGlobal('WebSocket', FakeSocket);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('connects from the start of the stream and is open after the hello', () => {
    const { frames, hook } = setup();
    const socket = FakeSocket.latest();
    expect(socket.url).toBe('ws://test/s1?after=0');
    expect(hook.result.current.connection.status).toBe('connecting');
    act(() => {
      socket.open();
      socket.receive(helloFrame('s1'), { type: 'RUN_STARTED', runId: 'r1', threadId: 's1', question: 'Ada', seq: 1 });
    });
    expect(hook.result.current.connection.status).toBe('open');
    expect(frames.map((f) => ('type' in f ? f.type : f.control))).toEqual(['hello', 'RUN_STARTED']);
  });

  it('reconnects with backoff after a drop and asks only for what it missed', () => {
    const { hook } = setup();
    const first = FakeSocket.latest();
    act(() => {
      first.open();
      first.receive(helloFrame('s1', 'abc'), { type: 'RUN_STARTED', runId: 'r1', threadId: 's1', question: 'Ada', seq: 1 });
      first.receive({ type: 'TEXT_MESSAGE_CONTENT', messageId: 'm', delta: 'Hi', seq: 7, runId: 'r1' });
      first.drop();
    });
    expect(hook.result.current.connection.status).toBe('reconnecting');
    expect(hook.result.current.connection.attempt).toBe(1);
    expect(FakeSocket.all).toHaveLength(1);
    act(() => vi.advanceTimersByTime(700));
    expect(FakeSocket.all).toHaveLength(2);
    expect(FakeSocket.latest().url).toBe('ws://test/s1?after=7&stream=abc');
    // That attempt fails too: the next wait is longer.
    act(() => FakeSocket.latest().drop());
    expect(hook.result.current.connection.attempt).toBe(2);
    act(() => vi.advanceTimersByTime(700));
    expect(FakeSocket.all).toHaveLength(2);
    act(() => vi.advanceTimersByTime(600));
    expect(FakeSocket.all).toHaveLength(3);
    act(() => {
      FakeSocket.latest().open();
      FakeSocket.latest().receive(helloFrame('s1', 'abc', 7));
    });
    expect(hook.result.current.connection).toMatchObject({ status: 'open', attempt: 0 });
    expect(hook.result.current.connection.reconnectedAt).not.toBeNull();
  });

  it('retries at once on demand', () => {
    const { hook } = setup();
    act(() => {
      FakeSocket.latest().open();
      FakeSocket.latest().drop();
    });
    act(() => hook.result.current.retryNow());
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('stops on an unknown session (close code 4404)', () => {
    const { hook } = setup();
    act(() => {
      FakeSocket.latest().open();
      FakeSocket.latest().receive({ control: 'error', code: 'session_not_found', message: 'Session not found.', status: 404 });
      FakeSocket.latest().close(4404);
    });
    expect(hook.result.current.connection.status).toBe('not_found');
    act(() => vi.advanceTimersByTime(30_000));
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('reports an ended sign-in (close code 4401) and stops retrying', () => {
    const heard: ApiError[] = [];
    const stop = onApiFailure((error) => heard.push(error));
    const { hook } = setup();
    act(() => {
      FakeSocket.latest().open();
      FakeSocket.latest().close(4401);
    });
    stop();
    expect(heard.map((e) => [e.status, e.code])).toEqual([[401, 'not_signed_in']]);
    act(() => vi.advanceTimersByTime(30_000));
    expect(FakeSocket.all).toHaveLength(1);
    expect(hook.result.current.connection.status).not.toBe('open');
  });

  it('stops for good when the server refuses the origin (close 4403) and says why', () => {
    const { hook } = setup();
    const message = 'This page comes from https://evil.example, an origin this server does not accept.';
    act(() => {
      FakeSocket.latest().open();
      FakeSocket.latest().receive({ control: 'error', code: 'origin_refused', status: 403, message });
      FakeSocket.latest().close(4403);
    });
    expect(hook.result.current.connection).toMatchObject({ status: 'refused', retryAt: null, reason: message });
    act(() => vi.advanceTimersByTime(60_000));
    act(() => {
      hook.result.current.retryNow();
      window.dispatchEvent(new Event('online'));
    });
    expect(FakeSocket.all).toHaveLength(1);
    expect(hook.result.current.connection.status).toBe('refused');
  });

  it('says it is refused in words even without the error frame', () => {
    const { hook } = setup();
    act(() => FakeSocket.latest().close(4403));
    expect(hook.result.current.connection.status).toBe('refused');
    expect(hook.result.current.connection.reason).toMatch(/refused the live connection/);
  });

  it('waits the retry_after of a rate limit (close 4429) before it reconnects', () => {
    const { hook } = setup();
    act(() => {
      FakeSocket.latest().open();
      FakeSocket.latest().receive({ control: 'error', code: 'rate_limited', status: 429, message: 'Too many sockets.', retryAfter: 40 });
      FakeSocket.latest().close(4429);
    });
    const { connection } = hook.result.current;
    expect(connection.status).toBe('reconnecting');
    expect(connection.reason).toBe('Too many sockets.');
    expect(connection.retryAt! - Date.now()).toBeGreaterThanOrEqual(40_000);
    act(() => vi.advanceTimersByTime(39_000));
    expect(FakeSocket.all).toHaveLength(1); // the usual backoff (under a second) is not enough
    act(() => vi.advanceTimersByTime(1_500));
    expect(FakeSocket.all).toHaveLength(2);
    // Once back, the next drop waits the usual backoff again.
    act(() => {
      FakeSocket.latest().open();
      FakeSocket.latest().receive(helloFrame('s1'));
      FakeSocket.latest().drop();
    });
    expect(hook.result.current.connection.reason).toBeNull();
    act(() => vi.advanceTimersByTime(700));
    expect(FakeSocket.all).toHaveLength(3);
  });

  it('sends client frames only while open', () => {
    const { hook } = setup();
    expect(hook.result.current.send({ type: 'cancel' })).toBe(false);
    act(() => FakeSocket.latest().open());
    expect(hook.result.current.send({ type: 'message', content: 'Ada Lovelace' })).toBe(true);
    expect(FakeSocket.latest().sent).toEqual([{ type: 'message', content: 'Ada Lovelace' }]);
  });

  it('closes its socket when the session view goes away, without reconnecting', () => {
    const { hook } = setup();
    act(() => FakeSocket.latest().open());
    hook.unmount();
    expect(FakeSocket.latest().readyState).toBe(FakeSocket.CLOSED);
    act(() => vi.advanceTimersByTime(30_000));
    expect(FakeSocket.all).toHaveLength(1);
  });
});

describe('cursor and backoff', () => {
  it('starts again from 0 on a new stream, keeps the seq on a trim', () => {
    const c = { stream: 'a', lastSeq: 9 };
    expect(advanceCursor(c, helloFrame('s', 'b'))).toEqual({ stream: 'b', lastSeq: 0 });
    expect(advanceCursor(c, { control: 'resync', stream: 'a', lastSeq: 50, reason: 'frames trimmed' })).toBe(c);
    expect(advanceCursor(c, { type: 'TEXT_MESSAGE_END', messageId: 'm', seq: 4 })).toBe(c);
    expect(advanceCursor(c, { type: 'TEXT_MESSAGE_END', messageId: 'm', seq: 10 })).toEqual({ stream: 'a', lastSeq: 10 });
  });

  it('doubles the wait up to a cap, with jitter', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(n, mid))).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
    expect(backoffDelay(1, () => 0)).toBe(400);
    expect(backoffDelay(1, () => 1)).toBe(600);
  });
});
