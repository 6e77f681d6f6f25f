/**
 * What the studio asks the server, counted: the API allows so many requests a minute per address,
 * so opening a session or reloading its page must ask for each thing once, and the socket's replay
 * of what happened before the page connected must not reload anything.
 */
import { act, render, renderHook, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { App } from '../App';
import { api, type PitchOut, type SessionOut } from '../api/client';
import { useSessions } from '../hooks/useSessions';
import { FakeSocket, helloFrame } from '../test/fakeSocket';
import { frame, pitchFrames, pitchTimeline } from '../test/fixtures';

const IDS = ['aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000003'];
const LAST_SEQ = Math.max(...pitchFrames.map((f) => f.seq ?? 0));
const FILE = 'ada-lovelace-and-the-reckoning.md';
/** The state after the recorded pitch (its last snapshot). */
const finalState = (() => {
  const snapshots = pitchFrames.filter((f) => f.type === 'STATE_SNAPSHOT');
  return (snapshots[snapshots.length - 1] as unknown as { snapshot: Record<string, unknown>; version: number }).snapshot;
})();

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function session(id: string, extra: Partial<SessionOut> = {}): SessionOut {
  return { id, title: 'Ada Lovelace', subject: 'Ada Lovelace', status: 'completed', model: 'offline', created_at: '2026-01-01T10:00:00Z', updated_at: '2026-01-01T10:00:00Z', active_run_id: null, archived_at: null, ...extra };
}

function pitch(versions: number[]): PitchOut {
  return {
    filename: FILE,
    latest_version: Math.max(...versions),
    versions: versions.map((version) => ({
      version, created_at: null, size: 100, revision: version, notes: [], run_id: null, undone: false,
      markdown_url: `/md/${version}`, pdf_url: `/pdf/${version}`,
    })),
  } as PitchOut;
}

/** Three finished pitches (the recorded one), in AUTH_MODE=none; `calls` lists every request. */
function fakeServer() {
  const server = {
    calls: [] as string[],
    sessions: IDS.map((id) => session(id)),
    /** The versions of the pitch document /pitches lists, for each answer in turn (the last one stays). */
    pitchVersions: [[0]] as number[][],
  };
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL) => {
      const request = input instanceof Request ? input : new Request(new URL(String(input), 'http://localhost'));
      const path = new URL(request.url).pathname;
      server.calls.push(`${request.method} ${path}`);
      if (path === '/api/v1/auth/config') return json({ auth_mode: 'none', signup_open: false, oidc_enabled: false });
      if (path === '/api/v1/auth/me') return json({ user_id: 'local', username: 'local', is_admin: true, via: 'none', csrf_token: null });
      if (path === '/api/v1/info') return json({ version: 'test', models: {}, offline: true, max_message_chars: 8000, writers_room_max_iterations: 5, agents: {} });
      if (path === '/api/v1/sessions') return json({ items: server.sessions, total: server.sessions.length, limit: 30, offset: 0 });
      const rest = /^\/api\/v1\/sessions\/[^/]+(\/.*)$/.exec(path)?.[1];
      if (rest === '/timeline') return json(pitchTimeline);
      if (rest === '/state') return json({ session_id: IDS[0], version: 9, state: finalState });
      if (rest === '/pitches') {
        const versions = server.pitchVersions.length > 1 ? server.pitchVersions.shift()! : server.pitchVersions[0]!;
        return json([pitch(versions)]);
      }
      if (rest === '/branches') return json([]);
      return json({ detail: 'Not found' }, 404);
    }),
  );
  return server;
}

/** Lets the requests answer and the effects run. */
async function settle() {
  for (let i = 0; i < 20; i++) await act(async () => await Promise.resolve());
}

/** The requests made since `from`, counted by path (session ids as {id}). */
function counted(calls: string[], from = 0): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of calls.slice(from)) {
    const key = call.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '{id}');
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** The socket of a finished session: the hello, then the replay of the recorded pitch, all before it connected. */
function connectFinished(socket: FakeSocket, sessionId: string) {
  act(() => {
    socket.open();
    socket.receive(helloFrame(sessionId, 'stream-1', LAST_SEQ, null));
  });
  // In pieces, as a socket delivers them (a run shows running in between).
  for (let i = 0; i < pitchFrames.length; i += 25) act(() => socket.receive(...pitchFrames.slice(i, i + 25)));
}

const ONE_SESSION = {
  'GET /api/v1/sessions/{id}/timeline': 1,
  'GET /api/v1/sessions/{id}/state': 1,
  'GET /api/v1/sessions/{id}/pitches': 1,
  'GET /api/v1/sessions/{id}/branches': 1,
};

describe('requests the studio makes', () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.stubGlobal('WebSocket', FakeSocket);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    window.history.pushState(null, '', '/');
  });

  it('opening sessions from the sidebar asks for each thing once, and never for the session list again', async () => {
    const user = userEvent.setup();
    const server = fakeServer();
    window.history.pushState(null, '', '/');
    render(<App />);
    await waitFor(() => expect(screen.getAllByTestId('session-item')).toHaveLength(3));
    await settle();
    expect(counted(server.calls)).toEqual({
      'GET /api/v1/auth/config': 1,
      'GET /api/v1/auth/me': 1,
      'GET /api/v1/info': 1,
      'GET /api/v1/sessions': 1,
    });

    for (const id of IDS) {
      const before = server.calls.length;
      const item = screen.getAllByTestId('session-item').find((row) => row.dataset.sessionId === id)!;
      await user.click(within(item).getAllByRole('button')[0]!);
      await settle();
      connectFinished(FakeSocket.latest(), id);
      await settle();
      // No snapshot per draft (the timeline's frames carry the drafts), no session list, no duplicates.
      expect(counted(server.calls, before)).toEqual(ONE_SESSION);
      expect(screen.getByTestId('session-view')).toHaveAttribute('data-session-id', id);
    }
    // The drafts are there all the same, with their text.
    expect(within(screen.getAllByTestId('tab-story').at(-1)!).getByText('2')).toBeInTheDocument();
    await user.click(screen.getAllByTestId('tab-story').at(-1)!);
    expect(screen.getAllByTestId('draft')).toHaveLength(2);
    await user.click(screen.getAllByTestId('draft-toggle')[0]!);
    expect(screen.getByTestId('draft-text')).toHaveTextContent('Ada Lovelace');
    // The last two drafts compare here, from the text the page has.
    expect(screen.getByTestId('version-compare')).toBeInTheDocument();
    await settle();
    expect(server.calls.filter((c) => /\/states|\/drafts|\/compare/.test(c))).toEqual([]);
  });

  it('reloading a session page asks for each thing once', async () => {
    const server = fakeServer();
    window.history.pushState(null, '', `/s/${IDS[1]}`);
    render(<App />);
    await waitFor(() => expect(FakeSocket.all).toHaveLength(1));
    connectFinished(FakeSocket.latest(), IDS[1]!);
    await waitFor(() => expect(screen.getAllByTestId('session-item')).toHaveLength(3));
    await settle();
    expect(counted(server.calls)).toEqual({
      'GET /api/v1/auth/config': 1,
      'GET /api/v1/auth/me': 1,
      'GET /api/v1/info': 1,
      'GET /api/v1/sessions': 1,
      ...ONE_SESSION,
    });
  });

  it('what happens after the page connected reloads what it changed: the list on a run start and end, the documents on a save and an end', async () => {
    const server = fakeServer();
    window.history.pushState(null, '', `/s/${IDS[0]}`);
    render(<App />);
    await waitFor(() => expect(FakeSocket.all).toHaveLength(1));
    const socket = FakeSocket.latest();
    connectFinished(socket, IDS[0]!);
    await settle();
    const before = server.calls.length;

    // A new run, live: it starts, saves version 1 of the document, ends.
    server.pitchVersions = [[0, 1]];
    let seq = LAST_SEQ;
    act(() => socket.receive(frame({ type: 'RUN_STARTED', runId: 'r2', question: 'make it darker', seq: ++seq })));
    await settle();
    expect(counted(server.calls, before)).toEqual({ 'GET /api/v1/sessions': 1 });
    act(() =>
      socket.receive(
        frame({ type: 'CUSTOM', name: 'artifact_saved', runId: 'r2', seq: ++seq, value: { filename: FILE, version: 1, agent: 'file_writer', markdownUrl: '/md/1', pdfUrl: '/pdf/1' } }),
      ),
    );
    await settle();
    expect(counted(server.calls, before)).toEqual({ 'GET /api/v1/sessions': 1, 'GET /api/v1/sessions/{id}/pitches': 1 });
    act(() => socket.receive(frame({ type: 'RUN_FINISHED', runId: 'r2', seq: ++seq })));
    await settle();
    expect(counted(server.calls, before)).toEqual({ 'GET /api/v1/sessions': 2, 'GET /api/v1/sessions/{id}/pitches': 2 });
  });

  it('a document saved while its list loaded: the list loads once more, once', async () => {
    const server = fakeServer();
    // The list was read just before the replayed save: it lacks version 0, then has it.
    server.pitchVersions = [[], [0]];
    window.history.pushState(null, '', `/s/${IDS[0]}`);
    render(<App />);
    await waitFor(() => expect(FakeSocket.all).toHaveLength(1));
    connectFinished(FakeSocket.latest(), IDS[0]!);
    await settle();
    expect(counted(server.calls)['GET /api/v1/sessions/{id}/pitches']).toBe(2);
    expect(within(screen.getAllByTestId('tab-docs').at(-1)!).getByText('1')).toBeInTheDocument();
  });

  it('a run that ended before the socket connected, which the list still shows running: the list is reloaded once', async () => {
    const server = fakeServer();
    server.sessions = [session(IDS[0]!, { status: 'running', active_run_id: 'r1' }), ...server.sessions.slice(1)];
    window.history.pushState(null, '', `/s/${IDS[0]}`);
    render(<App />);
    await waitFor(() => expect(screen.getAllByTestId('session-item')).toHaveLength(3));
    await settle();
    server.sessions = [session(IDS[0]!), ...server.sessions.slice(1)];
    connectFinished(FakeSocket.latest(), IDS[0]!);
    await settle();
    expect(counted(server.calls)['GET /api/v1/sessions']).toBe(2);
    const item = screen.getAllByTestId('session-item').find((row) => row.dataset.sessionId === IDS[0])!;
    expect(item.querySelector('[data-status]')).toHaveAttribute('data-status', 'completed');
  });

  it('polls the list only for a session running where this page has no socket on it', async () => {
    vi.useFakeTimers();
    try {
      const listSessions = vi.fn(async () => ({ items: [session(IDS[0]!, { status: 'running', active_run_id: 'r1' })], total: 1, limit: 30, offset: 0 }));
      const client = { ...api, listSessions };
      const { rerender } = renderHook(({ current }: { current: string | null }) => useSessions(client, { current }), { initialProps: { current: IDS[0]! } });
      await act(async () => await Promise.resolve());
      expect(listSessions).toHaveBeenCalledTimes(1);
      // Open, its socket tells when the run ends: no polling.
      await act(async () => void vi.advanceTimersByTime(20_000));
      expect(listSessions).toHaveBeenCalledTimes(1);
      // Another session open: the running one is polled.
      rerender({ current: IDS[1]! });
      await act(async () => void vi.advanceTimersByTime(4_100));
      expect(listSessions).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
