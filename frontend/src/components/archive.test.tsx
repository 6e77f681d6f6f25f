import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { SessionOut } from '../api/client';
import { useSessions } from '../hooks/useSessions';
import { FakeSocket, helloFrame } from '../test/fakeSocket';
import { SESSION_ID } from '../test/fixtures';
import { ARCHIVED_REASON } from './Archive';
import { SessionView } from './SessionView';
import { Sidebar } from './Sidebar';

const ARCHIVED_AT = '2026-04-01T09:00:00Z';
const ARCHIVED_DETAIL = 'This session is archived (read-only); unarchive it to work on it again.';

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function session(id: string, title: string, extra: Partial<SessionOut> = {}): SessionOut {
  return { id, title, status: 'completed', model: 'offline', created_at: '2026-01-01T10:00:00Z', updated_at: '2026-01-01T10:00:00Z', subject: title, active_run_id: null, archived_at: null, ...extra };
}

/** A server with a few sessions: lists them, archives and unarchives them, and refuses a change
 * to an archived one with 423 as the backend does. `refuse` makes the next (un)archive fail. */
function fakeServer(initial: SessionOut[]) {
  const sessions = new Map(initial.map((s) => [s.id, { ...s }]));
  const calls: string[] = [];
  const server = { calls, sessions, refuse: null as null | { status: number; detail: string; code: string } };
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL) => {
      const request = input instanceof Request ? input : new Request(String(input));
      const path = new URL(request.url).pathname;
      calls.push(`${request.method} ${path}`);
      if (path === '/api/v1/sessions' && request.method === 'GET') {
        const items = [...sessions.values()];
        return json({ items, total: items.length, limit: 30, offset: 0 });
      }
      const match = /^\/api\/v1\/sessions\/([^/]+)(\/.*)?$/.exec(path);
      const row = match ? sessions.get(match[1]!) : undefined;
      const rest = match?.[2] ?? '';
      if (rest === '/timeline') return json({ sessionId: SESSION_ID, runs: [] });
      if (rest === '/states') return json([]);
      if (rest === '/state') return json({ session_id: SESSION_ID, version: 0, state: {} });
      if (rest === '/pitches') return json([]);
      if (!row) return json({ detail: 'Session not found (it may have been deleted).' }, 404);
      if (rest === '/archive' || rest === '/unarchive') {
        if (server.refuse) {
          const { status, detail, code } = server.refuse;
          server.refuse = null;
          return json({ detail, code }, status);
        }
        row.archived_at = rest === '/archive' ? ARCHIVED_AT : null;
        return json(row);
      }
      if (request.method === 'PATCH' && rest === '') {
        if (row.archived_at) return json({ detail: ARCHIVED_DETAIL, code: 'archived' }, 423);
        row.title = ((await request.json()) as { title: string }).title;
        return json(row);
      }
      return json({ detail: 'Not found' }, 404);
    }),
  );
  return server;
}

async function settle() {
  for (let i = 0; i < 10; i++) await act(async () => await Promise.resolve());
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('an archived session view', () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.stubGlobal('WebSocket', FakeSocket);
  });

  function mount(current: SessionOut) {
    const onSessionChange = vi.fn();
    const view = (s: SessionOut) => <SessionView sessionId={SESSION_ID} session={s} info={null} onSessionChange={onSessionChange} onMenu={vi.fn()} headerRight={() => null} />;
    const rendered = render(view(current));
    const socket = FakeSocket.latest();
    act(() => {
      socket.open();
      socket.receive(helloFrame(SESSION_ID, 'abc'));
    });
    return { onSessionChange, socket, rerender: (s: SessionOut) => rendered.rerender(view(s)) };
  }

  it('shows the badge, keeps the composer closed with one line why, and unarchives', async () => {
    const user = userEvent.setup();
    const archived = session(SESSION_ID, 'Ada Lovelace', { archived_at: ARCHIVED_AT });
    const server = fakeServer([archived]);
    const { onSessionChange, rerender } = mount(archived);
    await settle();

    const header = screen.getByTestId('session-heading').parentElement!;
    expect(within(header).getByTestId('archived-badge')).toHaveTextContent('Archived');
    expect(screen.getByTestId('composer-input')).toBeDisabled();
    expect(screen.getByTestId('composer-hint')).toHaveTextContent(ARCHIVED_REASON);
    expect(screen.getByTestId('send-button')).toBeDisabled();

    await user.click(screen.getByTestId('unarchive-button'));
    await waitFor(() => expect(onSessionChange).toHaveBeenCalled());
    expect(server.calls).toContain(`POST /api/v1/sessions/${SESSION_ID}/unarchive`);

    // The list answers with the session active again: the view opens up.
    rerender({ ...archived, archived_at: null });
    expect(screen.queryByTestId('archived-badge')).toBeNull();
    expect(screen.queryByTestId('unarchive-button')).toBeNull();
    expect(screen.getByTestId('composer-input')).toBeEnabled();
    expect(screen.queryByText(ARCHIVED_REASON)).toBeNull();
  });

  it("shows the server's message when unarchiving is refused", async () => {
    const user = userEvent.setup();
    const archived = session(SESSION_ID, 'Ada Lovelace', { archived_at: ARCHIVED_AT });
    const server = fakeServer([archived]);
    server.refuse = { status: 404, detail: `Session ${SESSION_ID} not found (it may have been deleted).`, code: 'not_found' };
    const { onSessionChange } = mount(archived);
    await settle();
    await user.click(screen.getByTestId('unarchive-button'));
    expect(await screen.findByTestId('unarchive-error')).toHaveTextContent('not found (it may have been deleted)');
    expect(onSessionChange).not.toHaveBeenCalled();
    expect(screen.getByTestId('unarchive-button')).toBeEnabled();
  });

  it("says why when the socket refuses a message to a session archived meanwhile, and refreshes the list", async () => {
    const user = userEvent.setup();
    const active = session(SESSION_ID, 'Ada Lovelace');
    fakeServer([active]);
    const { onSessionChange, socket } = mount(active);
    await settle();
    await user.type(screen.getByTestId('composer-input'), 'make it darker{Enter}');
    expect(socket.sent).toEqual([{ type: 'message', content: 'make it darker' }]);
    act(() => socket.receive({ control: 'error', code: 'archived', message: ARCHIVED_DETAIL, status: 423 }));
    expect(within(screen.getByTestId('notices')).getByText(ARCHIVED_DETAIL)).toBeInTheDocument();
    expect(onSessionChange).toHaveBeenCalled();
  });
});

describe('the sidebar item', () => {
  function SidebarOverServer() {
    const sessions = useSessions();
    return <Sidebar sessions={sessions} currentId={null} open={false} onClose={vi.fn()} onSelect={vi.fn()} onNew={vi.fn()} onDeleted={vi.fn()} />;
  }

  const row = (id: string) => screen.getAllByTestId('session-item').find((r) => r.dataset.sessionId === id)!;

  it('archives and unarchives from its menu, with the badge while archived', async () => {
    const user = userEvent.setup();
    const server = fakeServer([session('s1', 'Ada Lovelace'), session('s2', 'Hypatia', { archived_at: ARCHIVED_AT })]);
    render(<SidebarOverServer />);
    await waitFor(() => expect(screen.getAllByTestId('session-item')).toHaveLength(2));
    expect(within(row('s2')).getByTestId('archived-badge')).toBeInTheDocument();
    expect(within(row('s1')).queryByTestId('archived-badge')).toBeNull();

    await user.click(within(row('s1')).getByRole('button', { name: 'Archive Ada Lovelace' }));
    await waitFor(() => expect(within(row('s1')).getByTestId('archived-badge')).toBeInTheDocument());
    expect(server.calls).toContain('POST /api/v1/sessions/s1/archive');

    await user.click(within(row('s2')).getByRole('button', { name: 'Unarchive Hypatia' }));
    await waitFor(() => expect(within(row('s2')).queryByTestId('archived-badge')).toBeNull());
    expect(within(row('s2')).getByRole('button', { name: 'Archive Hypatia' })).toBeInTheDocument();
  });

  it("shows the server's message for a 423 (renaming an archived session) and a refused archive", async () => {
    const user = userEvent.setup();
    const server = fakeServer([session('s1', 'Ada Lovelace', { archived_at: ARCHIVED_AT }), session('s2', 'Hypatia')]);
    render(<SidebarOverServer />);
    await waitFor(() => expect(screen.getAllByTestId('session-item')).toHaveLength(2));

    await user.click(within(row('s1')).getByRole('button', { name: 'Rename Ada Lovelace' }));
    const input = screen.getByLabelText('Session title');
    await user.clear(input);
    await user.type(input, 'Countess{Enter}');
    expect(await screen.findByText(ARCHIVED_DETAIL)).toBeInTheDocument();
    expect(server.sessions.get('s1')!.title).toBe('Ada Lovelace');

    server.refuse = { status: 409, detail: 'The team is working; archive the session once this run finishes or is cancelled.', code: 'run_in_progress' };
    await user.click(within(row('s2')).getByRole('button', { name: 'Archive Hypatia' }));
    expect(await within(row('s2')).findByText(/archive the session once this run finishes/)).toBeInTheDocument();
    expect(within(row('s2')).queryByTestId('archived-badge')).toBeNull();
  });
});
