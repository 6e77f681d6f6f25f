import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import { pitchFrames, pitchTimeline, SESSION_ID } from '../test/fixtures';
import { runFromFrames } from '../stream/reducer';
import { initialStreamState, streamReducer } from '../stream/reducer';
import { visibleRuns } from '../stream/selectors';
import { renderChat as chat } from '../test/renderChat';
import type { InfoOut, SessionOut } from '../api/client';
import { Composer } from './Composer';
import { ConnectionBanner } from './ConnectionBanner';
import { Markdown } from './Markdown';
import { ModelBadge, REAL_MODEL_DOCS } from './ModelBadge';
import { SessionItem } from './SessionItem';
import { StoryPanel } from './StoryPanel';
import { TeamPanel } from './TeamPanel';

const live = pitchFrames.reduce((s, frame) => streamReducer(s, { type: 'frame', frame }), initialStreamState(SESSION_ID));
const liveRuns = visibleRuns(live);


describe('Markdown', () => {
  it('renders Markdown but never raw HTML', () => {
    const { container } = render(
      <Markdown text={'**bold** and a [link](https://example.org)\n\n<script>alert(1)</script><img src=x onerror="alert(2)"> <b>raw</b>\n\n| a | b |\n|---|---|\n| 1 | 2 |'} />,
    );
    expect(container.querySelector('strong')?.textContent).toBe('bold');
    const link = screen.getByRole('link', { name: 'link' });
    expect(link).toHaveAttribute('target', '_blank');
    expect(link).toHaveAttribute('rel', expect.stringContaining('noopener'));
    expect(container.querySelector('script, img, b')).toBeNull();
    expect(container.querySelector('table')).not.toBeNull();
  });

  it('drops javascript: links', () => {
    render(<Markdown text="[click](javascript:alert(1))" />);
    expect(screen.getByText('click').closest('a')?.getAttribute('href') ?? '').not.toMatch(/javascript/);
  });
});

describe('Composer', () => {
  it('sends on Enter and adds a line on Shift+Enter', async () => {
    const user = userEvent.setup();
    const onSend = vi.fn(async () => true);
    render(<Composer busy={false} cancelling={false} maxChars={100} onSend={onSend} />);
    const box = screen.getByTestId('composer-input');
    await user.type(box, 'Ada{Shift>}{Enter}{/Shift}Lovelace');
    expect(box).toHaveValue('Ada\nLovelace');
    expect(onSend).not.toHaveBeenCalled();
    await user.type(box, '{Enter}');
    expect(onSend).toHaveBeenCalledWith('Ada\nLovelace', []);
    expect(box).toHaveValue('');
  });

  it('gives the words of a refused note back, unless something new was typed', async () => {
    const user = userEvent.setup();
    const onSend = vi.fn(async () => true);
    const { rerender } = render(<Composer busy={false} running cancelling={false} maxChars={100} onSend={onSend} />);
    const box = screen.getByTestId('composer-input');
    await user.type(box, 'Hedy Lamarr{Enter}');
    expect(box).toHaveValue('');
    rerender(<Composer busy={false} running cancelling={false} maxChars={100} onSend={onSend} restore={{ text: 'Hedy Lamarr', at: 1 }} />);
    expect(box).toHaveValue('Hedy Lamarr');
    await user.clear(box);
    await user.type(box, 'Act II drags');
    rerender(<Composer busy={false} running cancelling={false} maxChars={100} onSend={onSend} restore={{ text: 'other', at: 2 }} />);
    expect(box).toHaveValue('Act II drags');
  });

  it('waits while a message is on its way', async () => {
    const user = userEvent.setup();
    const onSend = vi.fn(async () => true);
    render(<Composer busy cancelling={false} maxChars={100} onSend={onSend} />);
    await user.type(screen.getByTestId('composer-input'), 'another idea{Enter}');
    expect(onSend).not.toHaveBeenCalled();
    expect(screen.getByTestId('send-button')).toBeDisabled();
  });

  it('stays open while the team works: a message is a note for the writers room, and Stop is offered', async () => {
    const user = userEvent.setup();
    const onSend = vi.fn(async () => true);
    const onStop = vi.fn();
    render(<Composer busy={false} running cancelling={false} maxChars={100} onSend={onSend} onStop={onStop} />);
    const box = screen.getByTestId('composer-input');
    expect(box).toHaveAttribute('placeholder', "Note for the writers' room");
    expect(screen.getByRole('button', { name: 'Send note' })).toHaveTextContent('Send note');
    expect(screen.getByTestId('composer-hint')).toHaveTextContent(/note for the writers' room/);
    await user.type(box, 'make it darker{Enter}');
    expect(onSend).toHaveBeenCalledWith('make it darker', []);
    expect(box).toHaveValue('');
    await user.click(screen.getByTestId('stop-button'));
    expect(onStop).toHaveBeenCalled();
  });

  it('says "Send" and the usual placeholder when no run works', () => {
    render(<Composer busy={false} cancelling={false} maxChars={100} onSend={vi.fn(async () => true)} />);
    expect(screen.getByTestId('composer-input')).toHaveAttribute('placeholder', expect.stringContaining('historical figure'));
    expect(screen.getByRole('button', { name: 'Send message' })).toHaveTextContent(/^Send$/);
    expect(screen.queryByTestId('stop-button')).toBeNull();
  });

  it('sends the chosen direction chips with the message, then clears them', async () => {
    const user = userEvent.setup();
    const onSend = vi.fn(async () => true);
    render(<Composer busy={false} cancelling={false} maxChars={100} onSend={onSend} />);
    const chips = within(screen.getByRole('group', { name: 'Direction' })).getAllByRole('button');
    expect(chips.map((c) => c.textContent)).toEqual(['Drama', 'Thriller', 'Comedy', 'Family', 'Darker', 'Lighter']);
    const thriller = screen.getByRole('button', { name: 'Thriller' });
    expect(thriller).toHaveAttribute('aria-pressed', 'false');
    await user.click(thriller);
    expect(thriller).toHaveAttribute('aria-pressed', 'true');
    await user.click(screen.getByRole('button', { name: 'Darker' }));
    // Darker and lighter pull opposite ways: one lets go of the other.
    await user.click(screen.getByRole('button', { name: 'Lighter' }));
    expect(screen.getByRole('button', { name: 'Darker' })).toHaveAttribute('aria-pressed', 'false');
    await user.click(screen.getByRole('button', { name: 'Lighter' }));
    await user.click(screen.getByRole('button', { name: 'Darker' }));
    await user.type(screen.getByTestId('composer-input'), 'Ada Lovelace{Enter}');
    expect(onSend).toHaveBeenCalledWith('Ada Lovelace', ['thriller', 'darker']);
    expect(screen.getByRole('button', { name: 'Thriller' })).toHaveAttribute('aria-pressed', 'false');
    expect(screen.getByRole('button', { name: 'Darker' })).toHaveAttribute('aria-pressed', 'false');
  });

  it('keeps the chips when the message could not be sent', async () => {
    const user = userEvent.setup();
    render(<Composer busy={false} cancelling={false} maxChars={100} onSend={vi.fn(async () => false)} />);
    await user.click(screen.getByRole('button', { name: 'Comedy' }));
    await user.type(screen.getByTestId('composer-input'), 'Ada Lovelace{Enter}');
    expect(screen.getByRole('button', { name: 'Comedy' })).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByTestId('composer-input')).toHaveValue('Ada Lovelace');
  });

  it('refuses messages over the limit', async () => {
    const user = userEvent.setup();
    render(<Composer busy={false} cancelling={false} maxChars={5} onSend={vi.fn(async () => true)} />);
    await user.type(screen.getByTestId('composer-input'), 'far too long');
    expect(screen.getByTestId('send-button')).toBeDisabled();
    expect(screen.getByTestId('composer-hint')).toHaveTextContent('the limit is 5');
  });
});

describe('ModelBadge', () => {
  const info = (offline: boolean, model: string) =>
    ({ version: '0.1.0', models: { default: model, per_agent: { greeter: model }, offline, via_proxy: false }, offline, max_message_chars: 8000, writers_room_max_iterations: 5, agents: {} }) as InfoOut;

  it('says the offline model is in use and links to how to configure a real one', () => {
    render(<ModelBadge info={info(true, 'offline')} />);
    const badge = screen.getByTestId('model-badge');
    expect(badge).toHaveTextContent('Offline demo model');
    expect(badge).toHaveAttribute('href', REAL_MODEL_DOCS);
    expect(REAL_MODEL_DOCS).toMatch(/#using-a-real-model$/);
    expect(screen.getByRole('tooltip')).toHaveTextContent('LLM_MODEL');
  });

  it('names a real model', () => {
    render(<ModelBadge info={info(false, 'openai/gpt-4o-mini')} />);
    expect(screen.getByTestId('model-badge')).toHaveTextContent('openai/gpt-4o-mini');
  });
});

describe('SessionItem', () => {
  const session: SessionOut = { id: 's1', title: 'Ada Lovelace', status: 'completed', model: 'offline', created_at: '2026-01-01T10:00:00Z', updated_at: '2026-01-01T10:00:00Z', subject: 'Ada Lovelace', active_run_id: null };

  it('renames inline', async () => {
    const user = userEvent.setup();
    const onRename = vi.fn(async () => undefined);
    render(<ul><SessionItem session={session} current={false} onSelect={vi.fn()} onRename={onRename} onDelete={vi.fn(async () => undefined)} /></ul>);
    await user.click(screen.getByRole('button', { name: 'Rename Ada Lovelace' }));
    const input = screen.getByLabelText('Session title');
    await user.clear(input);
    await user.type(input, 'The Enchantress of Numbers{Enter}');
    expect(onRename).toHaveBeenCalledWith('The Enchantress of Numbers');
  });

  it('asks before deleting', async () => {
    const user = userEvent.setup();
    const onDelete = vi.fn(async () => undefined);
    render(<ul><SessionItem session={session} current={false} onSelect={vi.fn()} onRename={vi.fn(async () => undefined)} onDelete={onDelete} /></ul>);
    await user.click(screen.getByRole('button', { name: 'Delete Ada Lovelace' }));
    expect(onDelete).not.toHaveBeenCalled();
    await user.click(screen.getByRole('button', { name: 'Delete' }));
    expect(onDelete).toHaveBeenCalled();
  });

  it('shows title, status and date', () => {
    render(<ul><SessionItem session={{ ...session, status: 'running' }} current onSelect={vi.fn()} onRename={vi.fn(async () => undefined)} onDelete={vi.fn(async () => undefined)} /></ul>);
    expect(screen.getByTestId('session-title')).toHaveTextContent('Ada Lovelace');
    expect(screen.getByText('Running')).toBeInTheDocument();
  });
});

describe('ChatPanel', () => {
  it('shows the conversation: greeter answers, team card and the document card with downloads', () => {
    chat(liveRuns);
    expect(screen.getAllByTestId('user-message').map((m) => m.textContent)).toEqual(['hello', 'Ada Lovelace']);
    expect(screen.getAllByTestId('assistant-message')[0]).toHaveTextContent('Welcome to Agente Films');
    expect(screen.getByTestId('team-card')).toHaveTextContent("Writers' room");
    const card = screen.getByTestId('document-card');
    expect(within(card).getByTestId('download-markdown')).toHaveAttribute('href', expect.stringContaining('format=markdown'));
    expect(within(card).getByTestId('download-pdf')).toHaveAttribute('href', expect.stringContaining('format=pdf'));
  });

  it('says when a run was stopped, interrupted or failed', () => {
    const [hello, pitch] = liveRuns;
    chat([
      { ...hello!, status: 'cancelled' },
      { ...pitch!, id: 'x', status: 'interrupted', error: 'The server stopped while this run was in progress.' },
      { ...pitch!, id: 'y', status: 'failed', error: 'litellm.AuthenticationError: bad key' },
    ]);
    const statuses = screen.getAllByTestId('run-status');
    expect(statuses.map((s) => s.dataset.status)).toEqual(['cancelled', 'interrupted', 'failed']);
    expect(statuses[0]).toHaveTextContent('work done so far is kept');
    expect(statuses[2]).toHaveTextContent('bad key');
  });

  it('offers suggestions when empty and shows notices', async () => {
    const user = userEvent.setup();
    const { props } = chat([], { notices: [{ id: 1, code: 'run_in_progress', message: 'A run is already in progress.' }] });
    await user.click(screen.getByRole('button', { name: 'Ada Lovelace' }));
    expect(props.onSend).toHaveBeenCalledWith('Ada Lovelace', []);
    expect(screen.getByTestId('notices')).toHaveTextContent('A run is already in progress.');
  });

  it('explains a load failure', () => {
    chat([], { load: { status: 'error', message: "Can't reach the Agente Films server.", notFound: false } });
    expect(screen.getByRole('alert')).toHaveTextContent("Can't reach the Agente Films server.");
  });
});

describe('TeamPanel', () => {
  it('shows the rounds of the writers room, both lanes and the file writer', async () => {
    const user = userEvent.setup();
    render(<TeamPanel runs={liveRuns} maxRounds={5} />);
    expect(screen.getAllByTestId('round-label').map((r) => r.textContent)).toEqual(['Round 1 of 5', 'Round 2 of 5']);
    const rounds = screen.getAllByTestId('round');
    expect(rounds.map((r) => r.dataset.verdict)).toEqual(['revise', 'approved']);
    // The latest round is open; the first one opens on demand and shows the critic's reasons.
    await user.click(within(rounds[0]!).getByRole('button', { expanded: false }));
    expect(within(rounds[0]!).getByTestId('critic-reasons')).toHaveTextContent('midpoint reversal');
    expect(within(rounds[0]!).getByTestId('wiki-titles')).toHaveTextContent('Ada Lovelace, Analytical engine');
    expect(screen.getByTestId('lane-box_office_researcher')).toHaveTextContent('Box-office outlook');
    expect(screen.getByTestId('lane-casting_agent')).toHaveTextContent('Casting ideas');
    expect(within(screen.getByTestId('file-writer')).getByTestId('document-card')).toBeInTheDocument();
  });

  it('shows the team before it starts', () => {
    render(<TeamPanel runs={[liveRuns[0]!]} maxRounds={5} />);
    expect(screen.getByTestId('team-empty')).toHaveTextContent('Researcher');
  });

  it('renders the same story from the stored timeline (rounds from the server, not guessed)', () => {
    render(<TeamPanel runs={pitchTimeline.runs.map((r) => runFromFrames(r.runId, r.frames))} maxRounds={5} />);
    expect(screen.getAllByTestId('round-label').map((r) => r.textContent)).toEqual(['Round 1 of 5', 'Round 2 of 5']);
    expect(screen.getByTestId('lanes')).toHaveTextContent('Casting ideas');
  });
});

describe('StoryPanel', () => {
  it('shows the outline, a diff between drafts and research with its sources', () => {
    render(<StoryPanel state={live.state} drafts={live.drafts} />);
    expect(screen.getByTestId('story-title')).toHaveTextContent('Ada Lovelace and the Reckoning');
    expect(screen.getByTestId('plot-outline')).toHaveTextContent('Logline:');
    const diff = screen.getByTestId('draft-diff');
    expect(diff.querySelector('ins')?.textContent).toMatch(/Draft 2: revised for the critic/);
    const sources = screen.getAllByTestId('research-source');
    expect(sources[0]).toHaveAttribute('href', 'https://en.wikipedia.org/wiki/Ada_Lovelace');
  });

  it('has an empty state', () => {
    render(<StoryPanel state={{}} drafts={[]} />);
    expect(screen.getByText('No story yet')).toBeInTheDocument();
  });
});

describe('ConnectionBanner', () => {
  it('says the connection dropped and counts down', () => {
    render(<ConnectionBanner connection={{ status: 'reconnecting', attempt: 2, retryAt: Date.now() + 3000, reconnectedAt: null }} onRetry={vi.fn()} />);
    expect(screen.getByTestId('connection-banner')).toHaveTextContent(/Connection to the server lost\. Reconnecting in \d+s \(attempt 2\)/);
  });

  it('says nothing while connected', () => {
    const { container } = render(<ConnectionBanner connection={{ status: 'open', attempt: 0, retryAt: null, reconnectedAt: null }} onRetry={vi.fn()} />);
    expect(container).toBeEmptyDOMElement();
  });
});
