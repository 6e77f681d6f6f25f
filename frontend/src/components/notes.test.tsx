/** The producer directs the team: direction chips, notes during a run, revisions and their versions. */
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import type { PitchOut } from '../api/client';
import { frame, noteRunFrames, SESSION_ID } from '../test/fixtures';
import type { Frame } from '../stream/frames';
import { initialStreamState, runFromFrames, streamReducer } from '../stream/reducer';
import { noteBook, visibleRuns } from '../stream/selectors';
import type { RunView } from '../stream/types';
import { renderChat as chat } from '../test/renderChat';
import { ChatPanel } from './ChatPanel';
import { DocumentCard } from './DocumentCard';
import { DocumentsPanel } from './DocumentsPanel';
import { StoryPanel } from './StoryPanel';
import { TeamPanel } from './TeamPanel';
import { Welcome } from './Welcome';

function runsOf(frames: Frame[]): RunView[] {
  return visibleRuns(frames.reduce((s, f) => streamReducer(s, { type: 'frame', frame: f }), initialStreamState(SESSION_ID)));
}

const frames = noteRunFrames('rev');
const upTo = (name: string) => frames.slice(0, frames.findIndex((f) => f.type === 'CUSTOM' && f.name === name) + 1);


describe('Welcome', () => {
  it('offers direction chips that go with a typed subject or a suggestion', async () => {
    const user = userEvent.setup();
    const onStart = vi.fn(async () => true);
    render(<Welcome maxChars={8000} onStart={onStart} onMenu={vi.fn()} headerRight={null} serverError={null} />);
    const thriller = screen.getByRole('button', { name: 'Thriller' });
    await user.click(thriller);
    expect(thriller).toHaveAttribute('aria-pressed', 'true');
    await user.click(screen.getByRole('button', { name: 'Ada Lovelace' }));
    expect(onStart).toHaveBeenLastCalledWith('Ada Lovelace', ['thriller']);
    expect(thriller).toHaveAttribute('aria-pressed', 'false');
    await user.click(screen.getByRole('button', { name: 'Family' }));
    await user.type(screen.getByTestId('composer-input'), 'Hypatia{Enter}');
    expect(onStart).toHaveBeenLastCalledWith('Hypatia', ['family']);
  });
});

describe('ChatPanel with notes', () => {
  it('shows a note said during the run with where it stands: queued, taken in round k, addressed with the verdict', () => {
    const { rerender, props } = chat(runsOf(upTo('note_received')));
    const note = screen.getByTestId('producer-note');
    expect(note).toHaveTextContent("Note for the writers' room");
    expect(within(note).getByTestId('note-text')).toHaveTextContent('make it darker');
    expect(within(note).getByTestId('note-status')).toHaveTextContent('queued');
    // The composer takes notes meanwhile.
    expect(screen.getByTestId('composer-input')).toHaveAttribute('placeholder', "Note for the writers' room");
    expect(screen.getByTestId('send-button')).toHaveAccessibleName('Send note');

    rerender(<ChatPanel {...props} runs={runsOf(upTo('note_taken'))} />);
    expect(screen.getByTestId('note-status')).toHaveTextContent('taken in round 2');
    expect(screen.getByTestId('producer-note')).toHaveAttribute('data-status', 'taken');

    const done = runsOf(frames);
    rerender(<ChatPanel {...props} runs={done} busy={false} />);
    expect(screen.getByTestId('note-status')).toHaveTextContent(/^addressed$/);
    expect(screen.getByTestId('note-verdict')).toHaveTextContent('The second act now ends in a betrayal.');
    expect(screen.getByTestId('send-button')).toHaveAccessibleName('Send message');
    // The chips of the first message show as tags, not as words of the message.
    expect(screen.getByTestId('user-message')).toHaveTextContent(/^Ada Lovelace$/);
    expect(screen.getByTestId('message-direction')).toHaveTextContent('thriller');
  });

  it('says "not addressed" with the critic\'s words, and "kept for the next run" for a stopped run', () => {
    const { unmount } = chat(runsOf(noteRunFrames('x', { addressed: false })));
    expect(screen.getByTestId('note-status')).toHaveTextContent('not addressed');
    expect(screen.getByTestId('note-verdict')).toHaveTextContent('Still as sunny as before.');
    unmount();
    chat(
      runsOf([
        frame({ type: 'RUN_STARTED', runId: 'a', question: 'Ada Lovelace', seq: 1 }),
        frame({ type: 'CUSTOM', name: 'note_received', runId: 'a', seq: 2, value: { noteId: 'k', text: 'more Babbage', keptForNextRun: false } }),
        frame({ type: 'CUSTOM', name: 'note_received', runId: 'a', seq: 3, value: { noteId: 'k', text: 'more Babbage', keptForNextRun: true } }),
        frame({ type: 'RUN_FINISHED', runId: 'a', seq: 4, result: { status: 'cancelled' } }),
      ]),
    );
    expect(screen.getByTestId('producer-note')).toHaveAttribute('data-status', 'kept');
    expect(screen.getByTestId('note-status')).toHaveTextContent('kept for the next run');
  });

  it('shows a note as sending until the server acknowledges it', () => {
    chat(runsOf(upTo('note_received')), { pendingNotes: ['and a twist'] });
    const notes = screen.getAllByTestId('producer-note');
    expect(notes.map((n) => n.dataset.status)).toEqual(['queued', 'sending']);
    expect(notes[1]).toHaveTextContent('and a twist');
    expect(notes[1]).toHaveTextContent('sending…');
  });

  it('sends the chips with a picked suggestion', async () => {
    const user = userEvent.setup();
    const { props } = chat([]);
    await user.click(screen.getByRole('button', { name: 'Comedy' }));
    await user.click(screen.getByRole('button', { name: 'Harriet Tubman' }));
    expect(props.onSend).toHaveBeenCalledWith('Harriet Tubman', ['comedy']);
  });

  it('shows a follow-up run (notes said too late for the run) as the team revising, not as a message', () => {
    chat(runsOf([frame({ type: 'RUN_STARTED', runId: 'f', question: "Notes for the writers' room: make it darker", seq: 1 })]));
    expect(screen.getByTestId('follow-up')).toHaveTextContent('make it darker');
    expect(screen.queryByTestId('user-message')).toBeNull();
  });
});

describe('TeamPanel with notes', () => {
  it("lists the notes a round took with the critic's verdict, and agents that kept their report", async () => {
    const user = userEvent.setup();
    render(<TeamPanel runs={runsOf(frames)} maxRounds={5} />);
    expect(screen.getByTestId('run-revision')).toHaveTextContent('Revision 1');
    const [one, two] = screen.getAllByTestId('round');
    expect(within(one!).queryByTestId('round-notes-count')).toBeNull();
    expect(within(two!).getByTestId('round-notes-count')).toHaveTextContent('1 note');
    const note = within(two!).getByTestId('round-note');
    expect(note).toHaveAttribute('data-status', 'addressed');
    expect(note).toHaveTextContent('make it darker');
    expect(within(note).getByTestId('round-note-status')).toHaveTextContent('Addressed');
    expect(within(note).getByTestId('round-note-verdict')).toHaveTextContent('The second act now ends in a betrayal.');
    // Round 1 took no note.
    await user.click(within(one!).getByRole('button', { expanded: false }));
    expect(within(one!).queryByTestId('round-notes')).toBeNull();
    const casting = screen.getByTestId('lane-casting_agent');
    expect(casting).toHaveAttribute('data-kept', 'true');
    expect(casting).toHaveTextContent(/kept its report/i);
    expect(screen.getByTestId('lane-box_office_researcher')).toHaveTextContent('darker sells');
    expect(screen.getByTestId('lane-box_office_researcher')).not.toHaveTextContent(/kept its report/i);
  });

  it('shows the same from the stored timeline', () => {
    render(<TeamPanel runs={[runFromFrames('rev', frames)]} maxRounds={5} />);
    expect(screen.getByTestId('round-note')).toHaveTextContent('The second act now ends in a betrayal.');
    expect(screen.getByTestId('lane-casting_agent')).toHaveTextContent(/kept its report/i);
  });

  it('shows a note taken but not judged yet as awaiting the critic', () => {
    render(<TeamPanel runs={runsOf(upTo('note_taken'))} maxRounds={5} />);
    expect(screen.getByTestId('round-note')).toHaveAttribute('data-status', 'taken');
    expect(screen.getByTestId('round-note-status')).toHaveTextContent('Awaiting the critic');
  });
});

describe('StoryPanel with notes', () => {
  it('shows the direction, the revision and the producer\'s notes with their verdicts', () => {
    const runs = runsOf(frames);
    const state = {
      PROMPT: 'Ada Lovelace',
      direction: 'thriller',
      revision: 1,
      producer_notes: [{ id: 'n1', text: 'make it darker', status: 'addressed', round: 2, revision: 1, addressed: true, verdict: 'The second act now ends in a betrayal.' }],
    };
    render(<StoryPanel state={state} drafts={[]} notes={[...noteBook(runs, state).values()]} />);
    expect(screen.getByTestId('story-direction')).toHaveTextContent('Direction: thriller');
    expect(screen.getByTestId('story-revision')).toHaveTextContent('Revision 1');
    const note = screen.getByTestId('story-note');
    expect(note).toHaveAttribute('data-status', 'addressed');
    expect(note).toHaveTextContent('make it darker');
    expect(within(note).getByTestId('note-status')).toHaveTextContent('addressed');
    expect(within(note).getByTestId('note-verdict')).toHaveTextContent('betrayal');
  });
});

describe('Documents', () => {
  const url = (v: number, format: string) => `/api/v1/sessions/s/pitches/ada.md?version=${v}&format=${format}`;
  const pitches: PitchOut[] = [
    {
      filename: 'ada.md',
      latest_version: 1,
      versions: [
        { version: 0, revision: 0, undone: false, notes: [], created_at: '2026-01-01T10:00:00Z', size: 2048, markdown_url: url(0, 'markdown'), pdf_url: url(0, 'pdf') },
        { version: 1, revision: 1, undone: false, notes: ['Make it funnier'], created_at: '2026-01-01T10:05:00Z', size: 2100, markdown_url: url(1, 'markdown'), pdf_url: url(1, 'pdf') },
      ],
    },
  ];

  it('lists each version as people count them, with the notes that produced a revision', () => {
    render(<DocumentsPanel pitches={pitches} error={null} loading={false} current="ada.md" />);
    expect(screen.getByTestId('document')).toHaveTextContent('2 versions · latest Version 2');
    const versions = screen.getAllByTestId('document-version');
    expect(versions.map((v) => within(v).getByTestId('version-label').textContent)).toEqual(['Version 2', 'Version 1']);
    expect(within(versions[0]!).getByTestId('version-notes')).toHaveTextContent('Revision 1 · “Make it funnier”');
    expect(within(versions[1]!).queryByTestId('version-notes')).toBeNull();
    expect(within(versions[0]!).getByTestId('download-pdf')).toHaveAttribute('href', url(1, 'pdf'));
  });

  it('numbers the document card in the chat the same way', () => {
    render(<DocumentCard filename="ada.md" version={1} markdownUrl={url(1, 'markdown')} pdfUrl={url(1, 'pdf')} />);
    expect(screen.getByTestId('document-card')).toHaveTextContent('ada.md · Version 2');
  });
});
