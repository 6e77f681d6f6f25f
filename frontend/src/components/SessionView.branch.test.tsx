import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { SessionOut } from '../api/client';
import { FakeSocket, helloFrame } from '../test/fakeSocket';
import { SessionView } from './SessionView';

const PARENT = '11111111-1111-1111-1111-111111111111';
const BRANCH = '22222222-2222-2222-2222-222222222222';
const OUTLINE = '**Title:** The Engine\n\n**Logline:** A countess sees the future.\n\n**Act I: The Spark.** Ada meets Babbage.';

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function session(id: string, title: string, extra: Partial<SessionOut> = {}): SessionOut {
  return { id, title, status: 'idle', model: 'offline', created_at: '2026-01-01T10:00:00Z', updated_at: '2026-01-01T10:00:00Z', subject: 'Ada Lovelace', active_run_id: null, ...extra };
}

/** A branch with an outline at state version 12; the server has moved on to 14 when the edit arrives. */
function stubApi() {
  const requests: { method: string; path: string; body: unknown }[] = [];
  let version = 12;
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL) => {
      const request = input instanceof Request ? input : new Request(String(input));
      const url = new URL(request.url);
      const body: unknown = request.method === 'GET' ? null : await request.clone().json().catch(() => null);
      requests.push({ method: request.method, path: url.pathname, body });
      const path = url.pathname;
      if (path.endsWith('/timeline')) return json({ sessionId: BRANCH, runs: [] });
      if (path.endsWith('/states')) return json([]);
      if (path.endsWith('/state') && request.method === 'PATCH') {
        version = 14;
        return json({ detail: 'The edit was made on state version 12, but the session is at version 14 now; reload the outline and make the edit again.', code: 'stale_version', current_version: 14 }, 409);
      }
      if (path.endsWith('/state')) return json({ session_id: BRANCH, version, state: { PROMPT: 'Ada Lovelace', PLOT_OUTLINE: version === 12 ? OUTLINE : OUTLINE.replace('sees the future', 'builds the future') } });
      if (path.endsWith('/pitches')) return json([]);
      if (path.endsWith('/branches')) return json([]);
      if (path.endsWith('/drafts')) return json([]);
      return json({ detail: 'Not found' }, 404);
    }),
  );
  return requests;
}

describe('SessionView of a branch', () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.stubGlobal('WebSocket', FakeSocket);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  async function settle() {
    for (let i = 0; i < 10; i++) await act(async () => await Promise.resolve());
  }

  it('links to its parent, and an edit made on an old version says so and reloads the current one', async () => {
    const user = userEvent.setup();
    const requests = stubApi();
    const onOpenSession = vi.fn();
    const branch = session(BRANCH, 'Ada Lovelace (branch)', { parent_id: PARENT, branch_point: { version: 7, round: 1, run_id: 'r1', events: 20 } });
    render(
      <SessionView
        sessionId={BRANCH}
        session={branch}
        sessions={[branch, session(PARENT, 'Ada Lovelace', { status: 'completed' })]}
        info={null}
        onSessionChange={vi.fn()}
        onOpenSession={onOpenSession}
        onMenu={vi.fn()}
        headerRight={() => null}
      />,
    );
    act(() => {
      FakeSocket.latest().open();
      FakeSocket.latest().receive(helloFrame(BRANCH, 'abc'));
    });
    await settle();

    // The header says whose branch it is and from where; the parent is a link.
    expect(screen.getByTestId('branch-origin')).toHaveTextContent('Branch of Ada Lovelace · from round 1');
    await user.click(screen.getByTestId('branch-parent-link'));
    expect(onOpenSession).toHaveBeenCalledWith(PARENT);
    expect(screen.getByTestId('branch-intro')).toHaveTextContent('A branch of Ada Lovelace, from round 1');
    expect(screen.getByTestId('composer-input').getAttribute('placeholder')).toMatch(/take this branch another way/);

    // An edit by hand, made on version 12, reaches a server at version 14.
    await user.click(screen.getAllByTestId('tab-story').at(-1)!);
    await user.click(await screen.findByTestId('edit-button'));
    const box = screen.getByTestId('outline-textarea');
    await user.clear(box);
    await user.type(box, OUTLINE.replace('Ada meets Babbage.', 'Ada meets Babbage at a party.'));
    await user.click(screen.getByTestId('editor-save'));
    const patch = requests.find((r) => r.method === 'PATCH');
    expect(patch).toEqual({ method: 'PATCH', path: `/api/v1/sessions/${BRANCH}/state`, body: { expected_version: 12, changes: { PLOT_OUTLINE: OUTLINE.replace('Ada meets Babbage.', 'Ada meets Babbage at a party.') } } });
    const stale = await screen.findByTestId('editor-stale');
    expect(within(stale).getByTestId('stale-current')).toHaveTextContent('14');

    await user.click(within(stale).getByTestId('editor-reload'));
    await waitFor(() => expect(screen.getByTestId('editor-base')).toHaveTextContent('Editing version 14'));
    expect(screen.getByTestId('outline-textarea')).toHaveValue(OUTLINE.replace('sees the future', 'builds the future'));
  });
});
