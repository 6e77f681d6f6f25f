import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { App } from '../App';
import { ApiError } from '../api/client';
import type { ShareLink, SharedView as SharedViewData } from '../api/shares';
import { sharedTokenFromPath } from '../hooks/useRoute';
import { fullTime } from '../lib/format';
import { pitchFrames } from '../test/fixtures';
import { ShareButton } from './ShareDialog';
import { SharedView } from './SharedView';

const SESSION = 'b6f2c1de-0000-4000-8000-000000000001';
const TOKEN = 'IjAwM2ZkMzBlLWNkYTEtNDNmMS1mMTY1LTM5NTE3YjRiOTdlMiI.axRj5g.jKmioApHCs_AG_WrW3WJNjJWPEc';

function link(id: string, days = 7): ShareLink {
  const created = new Date('2026-03-01T10:00:00Z');
  return {
    id,
    url: `https://films.example.com/shared/${id}-token`,
    created_at: created.toISOString(),
    expires_at: new Date(created.getTime() + days * 86_400_000).toISOString(),
  };
}

/** The owner's share calls, as a fake server keeping its live links. */
function fakeShares(initial: ShareLink[] = []) {
  let links = [...initial];
  let next = 1;
  return {
    list: vi.fn(async () => links),
    create: vi.fn(async (_session: string, days: number) => {
      const made = link(`new${next++}`, days);
      links = [made, ...links];
      return made;
    }),
    revoke: vi.fn(async (_session: string, id: string): Promise<undefined> => {
      links = links.filter((l) => l.id !== id);
      return undefined;
    }),
  };
}

/** The story of a finished pitch (recorded from the offline backend). */
const recordedState = (() => {
  const snapshots = pitchFrames.filter((f) => f.type === 'STATE_SNAPSHOT');
  return (snapshots[snapshots.length - 1] as unknown as { snapshot: Record<string, unknown> }).snapshot;
})();

function sharedView(): SharedViewData {
  const base = `/api/v1/shared/${TOKEN}/pitches/ada_lovelace_pitch.md`;
  return {
    title: 'Ada Lovelace',
    subject: 'Ada Lovelace',
    state: { ...recordedState, pitch_document: 'ada_lovelace_pitch.md', direction: 'thriller' },
    pitches: [
      {
        filename: 'ada_lovelace_pitch.md',
        latest_version: 1,
        versions: [0, 1].map((version) => ({
          version,
          created_at: '2026-03-01T10:00:00Z',
          size: 2048,
          revision: version,
          notes: version ? ['make it darker'] : [],
          run_id: null,
          undone: false,
          markdown_url: `${base}?version=${version}&format=markdown`,
          pdf_url: `${base}?version=${version}&format=pdf`,
        })),
      },
    ],
    created_at: '2026-03-01T09:00:00Z',
    updated_at: '2026-03-01T10:00:00Z',
    expires_at: '2026-03-08T10:00:00Z',
  };
}

async function settle() {
  for (let i = 0; i < 10; i++) await act(async () => await Promise.resolve());
}

describe('the share dialog', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('makes a link with the chosen expiry, copies it, lists it and revokes it', async () => {
    const user = userEvent.setup();
    const writeText = vi.fn(async () => undefined);
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    const client = fakeShares();
    render(<ShareButton sessionId={SESSION} client={client} />);

    await user.click(screen.getByTestId('share-button'));
    const dialog = await screen.findByTestId('share-dialog');
    expect(dialog).toHaveAttribute('role', 'dialog');
    expect(await within(dialog).findByTestId('share-empty')).toBeInTheDocument();
    expect(client.list).toHaveBeenCalledWith(SESSION);

    await user.selectOptions(within(dialog).getByTestId('share-expiry'), '30');
    await user.click(within(dialog).getByTestId('share-create'));
    expect(client.create).toHaveBeenCalledWith(SESSION, 30);
    const item = await within(dialog).findByTestId('share-item');
    expect(item).toHaveAttribute('data-fresh', 'true');
    expect(within(item).getByTestId('share-url')).toHaveValue('https://films.example.com/shared/new1-token');
    expect(within(item).getByTestId('share-expires')).toHaveTextContent(`Expires ${fullTime('2026-03-31T10:00:00Z')}`);

    await user.click(within(item).getByTestId('share-copy'));
    expect(writeText).toHaveBeenCalledWith('https://films.example.com/shared/new1-token');
    expect(within(item).getByTestId('share-copy')).toHaveTextContent('Copied');

    await user.click(within(item).getByTestId('share-revoke'));
    await user.click(within(item).getByTestId('share-revoke-confirm'));
    expect(client.revoke).toHaveBeenCalledWith(SESSION, 'new1');
    await waitFor(() => expect(within(dialog).queryByTestId('share-item')).not.toBeInTheDocument());
    expect(within(dialog).getByTestId('share-empty')).toBeInTheDocument();

    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('share-dialog')).not.toBeInTheDocument();
  });

  it('lists the live links with their expiry, and selects the link when the browser will not copy', async () => {
    const user = userEvent.setup();
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText: vi.fn(async () => Promise.reject(new Error('denied'))) } });
    const client = fakeShares([link('a', 7), link('b', 90)]);
    render(<ShareButton sessionId={SESSION} client={client} />);
    await user.click(screen.getByTestId('share-button'));
    const items = await screen.findAllByTestId('share-item');
    expect(items.map((i) => i.getAttribute('data-share-id'))).toEqual(['a', 'b']);
    expect(within(items[1]!).getByTestId('share-expires')).toHaveTextContent('Expires');

    await user.click(within(items[0]!).getByTestId('share-copy'));
    const input = within(items[0]!).getByTestId('share-url') as HTMLInputElement;
    expect(document.activeElement).toBe(input);
    expect([input.selectionStart, input.selectionEnd]).toEqual([0, input.value.length]);
    expect(within(items[0]!).getByTestId('share-copy-fallback')).toHaveTextContent('press Ctrl+C');
  });

  it('says why a link was not made', async () => {
    const user = userEvent.setup();
    const client = fakeShares();
    client.create.mockRejectedValueOnce(new ApiError('This session already has 20 live share links; revoke one first.', 409));
    render(<ShareButton sessionId={SESSION} client={client} />);
    await user.click(screen.getByTestId('share-button'));
    await user.click(await screen.findByTestId('share-create'));
    expect(await screen.findByTestId('share-error')).toHaveTextContent('revoke one first');
    expect(screen.getByTestId('share-empty')).toBeInTheDocument();
  });
});

describe('the shared page', () => {
  let calls: string[];

  function stubServer(answer: () => Response) {
    calls = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL) => {
        const request = input instanceof Request ? input : new Request(String(input));
        calls.push(`${request.method} ${new URL(request.url).pathname}`);
        return new URL(request.url).pathname === `/api/v1/shared/${TOKEN}`
          ? answer()
          : new Response(JSON.stringify({ detail: 'Not signed in.', code: 'not_signed_in' }), { status: 401 });
      }),
    );
    // A shared page opens no socket.
    vi.stubGlobal('WebSocket', vi.fn(() => { throw new Error('no socket on a shared page'); }));
  }

  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  beforeEach(() => window.history.pushState(null, '', `/shared/${TOKEN}`));
  afterEach(() => {
    vi.unstubAllGlobals();
    window.history.pushState(null, '', '/');
  });

  it('knows its route', () => {
    expect(sharedTokenFromPath(`/shared/${TOKEN}`)).toBe(TOKEN);
    expect(sharedTokenFromPath(`/shared/${TOKEN}/`)).toBe(TOKEN);
    expect(sharedTokenFromPath('/shared/')).toBeNull();
    expect(sharedTokenFromPath(`/s/${SESSION}`)).toBeNull();
    expect(sharedTokenFromPath('/shared/a/b')).toBeNull();
  });

  it('shows the story and the pitch read-only, asking only for the link', async () => {
    stubServer(() => json(sharedView()));
    render(<App />);
    expect(await screen.findByTestId('shared-title')).toHaveTextContent('Ada Lovelace');
    await settle();
    // Signed out, the page asked for nothing but its link: no /auth/me, no /sessions, no /info.
    expect(calls).toEqual([`GET /api/v1/shared/${TOKEN}`]);

    expect(screen.getByTestId('shared-notice')).toHaveTextContent(`Shared read-only by the owner · expires ${fullTime('2026-03-08T10:00:00Z')}`);
    const story = screen.getByTestId('shared-story');
    expect(within(story).getByTestId('story-title')).toHaveTextContent('Ada Lovelace and the Reckoning');
    expect(within(story).getByTestId('story-direction')).toHaveTextContent('thriller');
    expect(within(story).getAllByTestId('outline-section').length).toBeGreaterThan(2);
    expect(within(story).getAllByTestId('research-source')[0]).toHaveAttribute('href', 'https://en.wikipedia.org/wiki/Ada_Lovelace');

    // The current pitch to download at the top, every version below.
    const card = screen.getByTestId('document-card');
    expect(within(card).getByTestId('download-markdown')).toHaveAttribute('href', `/api/v1/shared/${TOKEN}/pitches/ada_lovelace_pitch.md?version=1&format=markdown`);
    expect(within(card).getByTestId('download-pdf')).toHaveAttribute('href', `/api/v1/shared/${TOKEN}/pitches/ada_lovelace_pitch.md?version=1&format=pdf`);
    expect(within(screen.getByTestId('shared-documents')).getAllByTestId('document-version')).toHaveLength(2);

    // Nothing to change anything with.
    expect(screen.queryByRole('textbox')).not.toBeInTheDocument();
    for (const id of ['open-sidebar', 'share-button', 'edit-button', 'undo-button', 'branch-button', 'story-actions', 'regenerate-writers_room', 'regenerate-document', 'account-menu']) {
      expect(screen.queryByTestId(id)).not.toBeInTheDocument();
    }
    expect(document.title).toBe('Ada Lovelace · Agente Films');
  });

  it('says so when the link has expired or was revoked', async () => {
    stubServer(() => json({ detail: 'This share link has expired or was revoked.', code: 'not_found' }, 404));
    render(<App />);
    expect(await screen.findByTestId('shared-gone')).toHaveTextContent('This link has expired or was revoked');
    await settle();
    expect(calls).toEqual([`GET /api/v1/shared/${TOKEN}`]);
    expect(screen.queryByTestId('shared-title')).not.toBeInTheDocument();
  });

  it('offers to try again when the server does not answer', async () => {
    const user = userEvent.setup();
    const view = vi.fn().mockRejectedValueOnce(new ApiError("Can't reach the Agente Films server.", 0)).mockResolvedValueOnce(sharedView());
    render(<SharedView token={TOKEN} client={{ view }} />);
    expect(await screen.findByText("Can't reach the Agente Films server.")).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByTestId('shared-title')).toHaveTextContent('Ada Lovelace');
    expect(view).toHaveBeenCalledTimes(2);
  });
});
