import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { FakeSocket, helloFrame } from '../test/fakeSocket';
import { frame, pitchFrames, SESSION_ID } from '../test/fixtures';
import { SessionView } from './SessionView';

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** A backend with an empty session; REST answers are enough for the view, frames come over the fake socket. */
function stubApi() {
  const calls: string[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL) => {
      const request = input instanceof Request ? input : new Request(String(input));
      const path = new URL(request.url).pathname;
      calls.push(`${request.method} ${path}`);
      if (path.endsWith('/timeline')) return json({ sessionId: SESSION_ID, runs: [] });
      if (path.endsWith('/states')) return json([]);
      if (path.endsWith('/state')) return json({ session_id: SESSION_ID, version: 0, state: {} });
      if (path.endsWith('/pitches')) return json([]);
      return json({ detail: 'Not found' }, 404);
    }),
  );
  return calls;
}

const runFrames = pitchFrames.filter((f) => (f.seq ?? 0) >= 25);

describe('SessionView', () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.stubGlobal('WebSocket', FakeSocket);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  /** Lets the REST loads resolve inside act(). */
  async function settle() {
    for (let i = 0; i < 10; i++) await act(async () => await Promise.resolve());
  }

  async function mount() {
    stubApi();
    const onSessionChange = vi.fn();
    render(<SessionView sessionId={SESSION_ID} session={undefined} info={null} onSessionChange={onSessionChange} onMenu={vi.fn()} headerRight={() => null} />);
    const socket = FakeSocket.latest();
    act(() => {
      socket.open();
      socket.receive(helloFrame(SESSION_ID, 'abc'));
    });
    await settle();
    return { socket, onSessionChange };
  }

  it('sends the message over the socket and streams the team at work', async () => {
    const user = userEvent.setup();
    const { socket, onSessionChange } = await mount();
    await waitFor(() => expect(screen.getByTestId('chat-empty')).toBeInTheDocument());
    await user.type(screen.getByTestId('composer-input'), 'Ada Lovelace{Enter}');
    expect(socket.sent).toEqual([{ type: 'message', content: 'Ada Lovelace' }]);

    // The greeter's first words arrive...
    const firstChunk = runFrames.findIndex((f) => f.type === 'TEXT_MESSAGE_CONTENT');
    act(() => socket.receive(...runFrames.slice(0, firstChunk + 1)));
    const message = screen.getByTestId('assistant-message');
    const short = message.textContent ?? '';
    expect(message.dataset.streaming).toBe('true');
    act(() => socket.receive(...runFrames.slice(firstChunk + 1, firstChunk + 4)));
    expect((screen.getByTestId('assistant-message').textContent ?? '').length).toBeGreaterThan(short.length);
    expect(onSessionChange).toHaveBeenCalled();

    // ...while it runs, the composer takes notes for the writers' room and Stop is offered.
    expect(screen.getByTestId('composer-input')).toHaveAttribute('placeholder', "Note for the writers' room");
    expect(screen.getByTestId('send-button')).toBeDisabled(); // nothing typed yet
    await user.click(screen.getByTestId('stop-button'));
    expect(socket.sent[1]).toEqual({ type: 'cancel' });

    act(() => socket.receive(...runFrames.slice(firstChunk + 4)));
    await settle();
    expect(screen.getAllByTestId('round-label').map((r) => r.textContent)).toEqual(['Round 1 of 5', 'Round 2 of 5']);
    expect(within(screen.getByTestId('lanes')).getAllByTestId('agent-text')).toHaveLength(2);
    expect(screen.getAllByTestId('document-card').length).toBeGreaterThan(0);
    expect(screen.queryByTestId('stop-button')).toBeNull();
  });

  it('sends the direction chips with the message, and notes during the run that the chat follows', async () => {
    const user = userEvent.setup();
    const { socket } = await mount();
    await user.click(screen.getByRole('button', { name: 'Thriller' }));
    await user.type(screen.getByTestId('composer-input'), 'Ada Lovelace{Enter}');
    expect(socket.sent).toEqual([{ type: 'message', content: 'Ada Lovelace', direction: ['thriller'] }]);
    expect(screen.getByRole('button', { name: 'Thriller' })).toHaveAttribute('aria-pressed', 'false');

    const runId = 'run-1';
    act(() => socket.receive(frame({ type: 'RUN_STARTED', runId, question: 'Ada Lovelace\n\nDirection: thriller', seq: 1 })));
    expect(screen.getByTestId('send-button')).toHaveAccessibleName('Send note');
    await user.type(screen.getByTestId('composer-input'), 'make it darker{Enter}');
    expect(socket.sent[1]).toEqual({ type: 'message', content: 'make it darker' });
    expect(screen.getByTestId('producer-note')).toHaveAttribute('data-status', 'sending');

    act(() => socket.receive(frame({ type: 'CUSTOM', name: 'note_received', runId, seq: 2, value: { noteId: 'n1', text: 'make it darker', keptForNextRun: false } })));
    expect(screen.getAllByTestId('producer-note')).toHaveLength(1);
    expect(screen.getByTestId('note-status')).toHaveTextContent('queued');
    act(() => socket.receive(frame({ type: 'CUSTOM', name: 'note_taken', runId, seq: 3, value: { noteId: 'n1', text: 'make it darker', round: 1, revision: 0 } })));
    expect(screen.getByTestId('note-status')).toHaveTextContent('taken in round 1');

    // A new subject during the run is refused: the notice says why, the pending note goes.
    await user.type(screen.getByTestId('composer-input'), 'Hypatia{Enter}');
    act(() => socket.receive({ control: 'error', code: 'run_in_progress', message: 'The team is working on Ada Lovelace; a new subject can start once this run finishes.', status: 409, runId }));
    expect(screen.getByTestId('notices')).toHaveTextContent('a new subject can start once this run finishes');
    expect(screen.getAllByTestId('producer-note')).toHaveLength(1);
  });

  it('shows a reconnecting notice when the socket drops and catches up without duplicates', async () => {
    const { socket } = await mount();
    vi.useFakeTimers();
    try {
      const half = Math.floor(runFrames.length / 2);
      act(() => socket.receive(...runFrames.slice(0, half)));
      await settle();
      act(() => socket.drop());
      expect(screen.getByTestId('connection-banner')).toHaveTextContent('Reconnecting');
      act(() => vi.advanceTimersByTime(1000));
      const again = FakeSocket.latest();
      expect(again).not.toBe(socket);
      expect(again.url).toContain(`after=${runFrames[half - 1]!.seq}`);
      expect(again.url).toContain('stream=abc');
      // The server replays a little more than asked: the overlap is ignored.
      act(() => {
        again.open();
        again.receive(helloFrame(SESSION_ID, 'abc', 400), ...runFrames.slice(half - 10));
      });
      await settle();
      expect(screen.getByTestId('connection-banner')).toHaveTextContent('Reconnected');
      const greeter = screen.getAllByTestId('assistant-message').find((m) => m.dataset.agent === 'greeter')!;
      expect(greeter.textContent?.match(/a fine subject/g)).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('says so when the server says the session is unknown', async () => {
    stubApi();
    render(<SessionView sessionId="0000" session={undefined} info={null} onSessionChange={vi.fn()} onMenu={vi.fn()} headerRight={() => null} />);
    const socket = FakeSocket.latest();
    act(() => {
      socket.open();
      socket.receive({ control: 'error', code: 'session_not_found', message: 'Session not found.', status: 404 });
      socket.close(4404);
    });
    await settle();
    expect(screen.getByTestId('composer-input')).toBeDisabled();
    expect(screen.getByTestId('composer-hint')).toHaveTextContent('deleted');
  });
});
