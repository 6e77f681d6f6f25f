import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { api, ApiError, type CompareOut, type SessionOut, type StateEditOut, type UndoOut } from '../api/client';
import type { SessionsHandle } from '../hooks/useSessions';
import { localDraftOptions, type VersionOption } from '../hooks/useVersions';
import { sessionTree } from '../lib/branches';
import { changedSections, outlineProblem, outlineSections } from '../lib/outline';
import { initialStreamState, newRun, streamReducer } from '../stream/reducer';
import { visibleRuns } from '../stream/selectors';
import type { Draft, RunView } from '../stream/types';
import type { Outcome } from '../stream/useSession';
import { pitchFrames, SESSION_ID } from '../test/fixtures';
import { renderChat } from '../test/renderChat';
import { OutlineEditor } from './OutlineEditor';
import { Sidebar } from './Sidebar';
import { StoryPanel, type StoryActions } from './StoryPanel';
import { TeamPanel, type TeamActions } from './TeamPanel';
import { RUN_IN_PROGRESS_REASON } from './ui';
import { DocumentsPanel } from './DocumentsPanel';
import { DraftDiff, sideBySide } from './DraftDiff';
import { VersionCompare } from './VersionCompare';

const OUTLINE = [
  '**Title:** The Engine',
  '**Logline:** A countess sees the future in a machine.',
  '**Act I: The Spark.** Ada meets Babbage.',
  '**Act II: The Cost.** Money runs out.',
  '**Act III: The Legacy.** The notes outlive them both.',
].join('\n\n');

function session(id: string, title: string, extra: Partial<SessionOut> = {}): SessionOut {
  return { id, title, status: 'completed', model: 'offline', created_at: '2026-01-01T10:00:00Z', updated_at: '2026-01-01T10:00:00Z', subject: title, active_run_id: null, ...extra };
}

function stale(current: number): Outcome<StateEditOut> {
  return { ok: false, message: `The edit was made on state version 12, but the session is at version ${current} now.`, code: 'stale_version', status: 409, body: { code: 'stale_version', current_version: current } };
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('the outline sections', () => {
  it('reads the sections like the server, and names what an edit changed', () => {
    expect(outlineSections(OUTLINE).map((s) => s.name)).toEqual(['Title', 'Logline', 'Act I', 'Act II', 'Act III']);
    const edited = OUTLINE.replace('Money runs out.', 'Money runs out.\n\nAnd so does time.').replace('sees the future', 'bets her name');
    expect(changedSections(OUTLINE, edited)).toEqual(['Logline', 'Act II']);
    expect(outlineProblem(edited)).toBeNull();
    expect(outlineProblem(OUTLINE.replace('**Title:** The Engine', 'The Engine'))).toMatch(/Keep the \*\*Title:\*\* line/);
  });
});

describe('the sidebar', () => {
  function handle(items: SessionOut[]): SessionsHandle {
    return {
      items,
      total: items.length,
      loaded: true,
      error: null,
      refresh: vi.fn(async () => undefined),
      loadMore: vi.fn(async () => undefined),
      create: vi.fn(),
      add: vi.fn(),
      rename: vi.fn(),
      remove: vi.fn(),
    } as unknown as SessionsHandle;
  }

  const parent = session('p1', 'Ada Lovelace');
  const branch = session('b1', 'Ada Lovelace (darker)', { parent_id: 'p1', branch_point: { version: 7, round: 1, run_id: 'r1', events: 20 } });
  const deeper = session('b2', 'Ada, darker still', { parent_id: 'b1', branch_point: { version: 12, round: null, run_id: null, events: 30 } });
  const orphan = session('b3', 'Hedy Lamarr (branch)', { parent_id: 'gone', branch_point: { version: 4, round: 2, run_id: 'r9', events: 9 } });
  const other = session('s2', 'Hypatia');

  it('nests each branch under its parent with where it branched; a branch without its parent stays at the top, marked', () => {
    // Newest first, as the server lists them: the branches are newer than their parent.
    const items = [deeper, orphan, branch, other, parent];
    expect(sessionTree(items).map((r) => `${'  '.repeat(r.depth)}${r.session.id}${r.orphan ? ' (orphan)' : ''}`)).toEqual([
      'b3 (orphan)',
      's2',
      'p1',
      '  b1',
      '    b2',
    ]);

    render(<Sidebar sessions={handle(items)} currentId="b1" open={false} onClose={vi.fn()} onSelect={vi.fn()} onNew={vi.fn()} onDeleted={vi.fn()} />);
    const rows = screen.getAllByTestId('session-item');
    expect(rows.map((r) => r.dataset.sessionId)).toEqual(['b3', 's2', 'p1', 'b1', 'b2']);
    const nested = rows[3]!;
    expect(nested.dataset.parentId).toBe('p1');
    expect(nested.dataset.depth).toBe('1');
    expect(within(nested).getByTestId('branch-point')).toHaveTextContent('Branch from round 1');
    expect(within(rows[4]!).getByTestId('branch-point')).toHaveTextContent('Branch from version 12');
    expect(within(nested).queryByTestId('branch-badge')).toBeNull();
    expect(within(rows[0]!).getByTestId('branch-badge')).toHaveTextContent('branch');
    expect(within(rows[0]!).getByTestId('branch-point')).toHaveTextContent('from round 2');
    expect(within(rows[2]!).queryByTestId('branch-point')).toBeNull();
  });
});

describe('the outline editor', () => {
  const props = (extra: Partial<Parameters<typeof OutlineEditor>[0]> = {}) => ({
    outline: OUTLINE,
    direction: 'thriller',
    version: 12,
    disabledReason: null,
    onSave: vi.fn(async () => stale(14)),
    onReload: vi.fn(async () => ({ version: 14, state: { PLOT_OUTLINE: OUTLINE.replace('Money runs out.', 'The money is gone.'), direction: 'thriller' } })),
    onSaved: vi.fn(),
    onCancel: vi.fn(),
    ...extra,
  });

  it('writes and previews one outline, and sends only what changed with the version it was made on', async () => {
    const user = userEvent.setup();
    const onSave = vi.fn(async (): Promise<Outcome<StateEditOut>> => ({ ok: true, value: { session_id: 's', edit_id: 'e1', version: 13, changed: ['Logline'], state: {} } }));
    const p = props({ onSave });
    render(<OutlineEditor {...p} />);
    const box = screen.getByTestId('outline-textarea');
    expect(box).toHaveValue(OUTLINE);
    expect(screen.getByTestId('editor-save')).toBeDisabled(); // nothing changed yet
    await user.clear(box);
    await user.type(box, OUTLINE.replace('sees the future in a machine', 'bets her name on a machine'));
    expect(screen.getByTestId('editor-changes')).toHaveTextContent('You change: Logline');
    await user.click(screen.getByTestId('editor-tab-preview'));
    expect(screen.getByTestId('outline-preview')).toHaveTextContent('A countess bets her name on a machine.');
    expect(screen.queryByTestId('outline-textarea')).toBeNull();
    await user.click(screen.getByTestId('editor-tab-write'));
    await user.click(screen.getByTestId('editor-save'));
    expect(onSave).toHaveBeenCalledWith({ PLOT_OUTLINE: OUTLINE.replace('sees the future in a machine', 'bets her name on a machine') }, 12);
    expect(p.onSaved).toHaveBeenCalledWith(expect.objectContaining({ version: 13, changed: ['Logline'] }));
  });

  it('says an outline without its Title line cannot be saved', async () => {
    const user = userEvent.setup();
    render(<OutlineEditor {...props()} />);
    const box = screen.getByTestId('outline-textarea');
    await user.clear(box);
    await user.type(box, OUTLINE.replace('**Title:** ', ''));
    expect(screen.getByTestId('editor-problem')).toHaveTextContent('Keep the Title: line');
    expect(screen.getByTestId('editor-save')).toBeDisabled();
  });

  it('says a stale edit is stale, shows the current version, and reloads it to redo the edit', async () => {
    const user = userEvent.setup();
    const p = props();
    render(<OutlineEditor {...p} />);
    const box = screen.getByTestId('outline-textarea');
    const mine = OUTLINE.replace('Ada meets Babbage.', 'Ada meets Babbage at a party.');
    await user.clear(box);
    await user.type(box, mine);
    await user.click(screen.getByTestId('editor-save'));

    const message = await screen.findByTestId('editor-stale');
    expect(message).toHaveTextContent('The pitch changed while you were editing.');
    expect(message).toHaveTextContent('You edited version 12; the current version is 14.');
    expect(screen.getByTestId('stale-current')).toHaveTextContent('14');
    expect(screen.getByTestId('editor-save')).toBeDisabled();
    expect(screen.getByTestId('editor-previous')).toHaveTextContent('Ada meets Babbage at a party.');

    await user.click(screen.getByRole('button', { name: 'Reload version 14' }));
    expect(p.onReload).toHaveBeenCalled();
    await waitFor(() => expect(screen.queryByTestId('editor-stale')).toBeNull());
    expect(screen.getByTestId('editor-base')).toHaveTextContent('Editing version 14');
    expect(screen.getByTestId('outline-textarea')).toHaveValue(OUTLINE.replace('Money runs out.', 'The money is gone.'));
    // Their words stay at hand to redo the edit on the new version.
    expect(screen.getByTestId('editor-previous')).toHaveTextContent('Ada meets Babbage at a party.');
  });

  it('waits with a reason while the team works', () => {
    render(<OutlineEditor {...props({ disabledReason: RUN_IN_PROGRESS_REASON, outline: OUTLINE })} />);
    const save = screen.getByTestId('editor-save');
    expect(save).toBeDisabled();
    expect(save).toHaveAttribute('data-disabled-reason', RUN_IN_PROGRESS_REASON);
    expect(screen.getByRole('tooltip')).toHaveTextContent(RUN_IN_PROGRESS_REASON);
  });
});

describe('comparing versions', () => {
  const drafts: Draft[] = [
    { version: 3, text: 'Ada meets Babbage. The engine is a dream.', agent: 'screenwriter', runId: 'r1', at: null },
    { version: 7, text: 'Ada meets Babbage. The engine is a weapon.', agent: 'screenwriter', runId: 'r1', at: null },
  ];
  const local = localDraftOptions('s1', drafts, new Map([[3, 1], [7, 2]]));

  it('shows two drafts side by side: removals struck on the left, additions on the right, each downloadable; inline on demand', async () => {
    const user = userEvent.setup();
    render(<VersionCompare sessionId="s1" options={local} />);
    const diff = screen.getByTestId('draft-diff');
    expect(diff.dataset.mode).toBe('side');
    const [headA, headB] = [screen.getByTestId('diff-side-a'), screen.getByTestId('diff-side-b')];
    expect(within(headA).getByTestId('diff-side-label')).toHaveTextContent(/^Draft 1 · Screenwriter, round 1 \(v3\)$/);
    expect(within(headB).getByTestId('diff-side-label')).toHaveTextContent(/^Draft 2 · Screenwriter, round 2 \(v7\)$/);
    expect(within(headA).getByTestId('diff-download')).toHaveAttribute('href', '/api/v1/sessions/s1/drafts/3');
    expect(within(headB).getByTestId('diff-download')).toHaveAttribute('href', '/api/v1/sessions/s1/drafts/7');
    const [left] = screen.getAllByTestId('diff-cell-a');
    const [right] = screen.getAllByTestId('diff-cell-b');
    expect(left).toHaveTextContent('Ada meets Babbage. The engine is a dream.');
    expect(right).toHaveTextContent('Ada meets Babbage. The engine is a weapon.');
    expect(left!.querySelector('del')?.textContent).toBe('dream');
    expect(left!.querySelector('ins')).toBeNull();
    expect(right!.querySelector('ins')?.textContent).toBe('weapon');
    expect(right!.querySelector('del')).toBeNull();

    await user.click(screen.getByTestId('compare-mode-inline'));
    expect(screen.getByTestId('draft-diff').dataset.mode).toBe('inline');
    expect(screen.queryByTestId('diff-cell-a')).toBeNull();
    expect(screen.getByTestId('draft-diff').querySelector('del')?.textContent).toBe('dream');
    expect(screen.getByTestId('draft-diff').querySelector('ins')?.textContent).toBe('weapon');
  });

  it('faces paragraph with paragraph: an edited act faces its old words, a new paragraph an empty cell', () => {
    const before = [OUTLINE, '_Written by the offline demo model._'].join('\n\n');
    const after = [OUTLINE.replace('Money runs out.', 'Money runs out; Babbage walks away.'), 'The shadows lengthen.', '_Written by the offline demo model._'].join('\n\n');
    const rows = sideBySide(before, after);
    expect(rows.map((r) => (r.same ? 'same' : r.a && r.b ? 'changed' : r.a ? 'only a' : 'only b'))).toEqual(['same', 'same', 'same', 'changed', 'same', 'only b', 'same']);
    const act2 = rows[3]!;
    expect(act2.a!.map((p) => p.value).join('')).toBe('**Act II: The Cost.** Money runs out.');
    expect(act2.b!.filter((p) => p.changed).map((p) => p.value.trim())).toEqual(['; Babbage walks away']);
    render(<DraftDiff from={before} to={after} mode="side" />);
    const cellsA = screen.getAllByTestId('diff-cell-a');
    const cellsB = screen.getAllByTestId('diff-cell-b');
    expect(cellsA).toHaveLength(7);
    expect(cellsA[5]).toBeEmptyDOMElement();
    expect(cellsB[5]!.querySelector('ins')).toHaveTextContent('The shadows lengthen.');
    expect(cellsA[4]).toHaveAttribute('data-same', 'true');
  });

  it('asks the server for versions of another session of the family, by their refs', async () => {
    const user = userEvent.setup();
    const parentDraft: VersionOption = { ref: 'draft:p1:3', sessionId: 'p1', kind: 'draft', group: 'Parent · Ada Lovelace', label: 'Draft 1 · Screenwriter, round 1 (v3)', text: null, downloadUrl: '/api/v1/sessions/p1/drafts/3' };
    const result: CompareOut = {
      a: { ref: 'draft:p1:3', session_id: 'p1', kind: 'draft', label: 'Ada Lovelace · draft 1', text: 'The engine is a dream.', download_url: '/api/v1/sessions/p1/drafts/3' },
      b: { ref: 'draft:s1:7', session_id: 's1', kind: 'draft', label: 'This · draft 2', text: 'The engine is a weapon.', download_url: '/api/v1/sessions/s1/drafts/7' },
    };
    const compare = vi.fn(async () => result);
    render(<VersionCompare sessionId="s1" options={[parentDraft, ...local]} client={{ compare }} />);
    // The defaults are this session's two drafts, compared here.
    expect(compare).not.toHaveBeenCalled();
    const groups = [...screen.getByTestId('compare-a').querySelectorAll('optgroup')].map((g) => g.label);
    expect(groups).toEqual(['Parent · Ada Lovelace — drafts', 'This session — drafts']);
    await user.selectOptions(screen.getByTestId('compare-a'), 'draft:p1:3');
    expect(compare).toHaveBeenCalledWith('s1', 'draft:p1:3', 'draft:s1:7');
    const left = await screen.findByTestId('diff-side-a');
    expect(within(left).getByTestId('diff-side-label')).toHaveTextContent('Parent · Ada Lovelace · Draft 1');
    expect(within(screen.getByTestId('diff-side-b')).getByTestId('diff-side-label')).toHaveTextContent('This session · Draft 2');
    expect(screen.getByTestId('diff-cell-a').querySelector('del')?.textContent).toBe('dream');
    expect(screen.getByTestId('diff-cell-b')).toHaveTextContent('The engine is a weapon.');
    // The closed picker says whose version it is.
    expect((screen.getByTestId('compare-a') as HTMLSelectElement).selectedOptions[0]).toHaveTextContent('Parent: Draft 1 · Screenwriter, round 1 (v3)');
  });
});

describe('the Story tab', () => {
  const base: StoryActions = {
    disabledReason: null,
    stateVersion: 12,
    edit: vi.fn(),
    reloadState: vi.fn(async () => null),
    undo: vi.fn(),
    branch: vi.fn(),
  };
  const state = { PROMPT: 'Ada Lovelace', PLOT_OUTLINE: OUTLINE, producer_edits: { sections: ['Logline'], revision: 1, version: 12 } };
  const drafts: Draft[] = [
    { version: 3, text: OUTLINE.replace('bets', 'sees'), agent: 'screenwriter', runId: 'r1', at: null },
    { version: 12, text: OUTLINE, agent: 'producer', runId: 'e1', at: null },
  ];

  it('marks the sections the producer wrote, and branches from a draft', async () => {
    const user = userEvent.setup();
    const branch = vi.fn(async (): Promise<Outcome<SessionOut>> => ({ ok: true, value: session('b1', 'Branch') }));
    render(<StoryPanel state={state} drafts={drafts} sessionId="s1" actions={{ ...base, branch }} />);
    const marked = screen.getAllByTestId('outline-section').filter((s) => s.dataset.producer === 'true');
    expect(marked.map((s) => s.dataset.section)).toEqual(['Logline']);
    expect(within(marked[0]!).getByTestId('producer-section')).toHaveTextContent('Your edit');
    const rows = screen.getAllByTestId('draft');
    expect(rows.map((r) => r.dataset.version)).toEqual(['12', '3']); // newest first
    expect(within(rows[0]!).getByTestId('draft-label')).toHaveTextContent('Draft 2 · your edit (v12)');
    expect(within(rows[1]!).getByTestId('draft-download')).toHaveAttribute('href', '/api/v1/sessions/s1/drafts/3');
    await user.click(within(rows[1]!).getByTestId('draft-branch'));
    expect(branch).toHaveBeenCalledWith({ from_version: 3 });
  });

  it('disables editing, undoing and branching with the reason while a run works', () => {
    render(<StoryPanel state={state} drafts={drafts} sessionId="s1" actions={{ ...base, disabledReason: RUN_IN_PROGRESS_REASON }} />);
    for (const id of ['edit-button', 'undo-button']) expect(screen.getByTestId(id)).toHaveAttribute('data-disabled-reason', RUN_IN_PROGRESS_REASON);
    for (const button of screen.getAllByTestId('draft-branch')) expect(button).toBeDisabled();
  });

  it('edits through the editor with the current state version, then says what was saved', async () => {
    const user = userEvent.setup();
    const edit = vi.fn(async (): Promise<Outcome<StateEditOut>> => ({ ok: true, value: { session_id: 's1', edit_id: 'e2', version: 13, changed: ['Act II'], state: {} } }));
    render(<StoryPanel state={state} drafts={drafts} sessionId="s1" actions={{ ...base, edit }} />);
    await user.click(screen.getByTestId('edit-button'));
    const box = screen.getByTestId('outline-textarea');
    await user.clear(box);
    await user.type(box, OUTLINE.replace('Money runs out.', 'Money runs out; Babbage walks away.'));
    await user.click(screen.getByTestId('editor-save'));
    expect(edit).toHaveBeenCalledWith({ PLOT_OUTLINE: OUTLINE.replace('Money runs out.', 'Money runs out; Babbage walks away.') }, 12);
    expect(await screen.findByTestId('edit-saved')).toHaveTextContent('Saved as version 13: you edited Act II.');
    expect(screen.queryByTestId('outline-editor')).toBeNull();
  });

  it('says gently that there is nothing to undo, and what an undo did', async () => {
    const user = userEvent.setup();
    const undo = vi
      .fn<() => Promise<Outcome<UndoOut>>>()
      .mockResolvedValueOnce({ ok: false, code: 'nothing_to_undo', status: 409, body: null, message: 'There is no revision, regeneration or edit of the current pitch left to undo.' })
      .mockResolvedValueOnce({ ok: true, value: { session_id: 's1', undo_id: 'u1', undid: 'e1', undid_kind: 'edit', restored_version: 11, version: 13, state: {} } });
    render(<StoryPanel state={state} drafts={drafts} sessionId="s1" actions={{ ...base, undo }} />);
    await user.click(screen.getByTestId('undo-button'));
    const gentle = await screen.findByTestId('undo-message');
    expect(gentle.dataset.tone).toBe('info');
    expect(gentle).toHaveTextContent('Nothing to undo. There is no revision, regeneration or edit of the current pitch left to undo.');
    expect(gentle).toHaveAttribute('role', 'status');
    await user.click(screen.getByTestId('undo-button'));
    await waitFor(() => expect(screen.getByTestId('undo-message').dataset.tone).toBe('success'));
    expect(screen.getByTestId('undo-message')).toHaveTextContent('Undid your edit by hand: the pitch is back to how it was before it (state v11).');
  });
});

describe('the Team panel', () => {
  const live = pitchFrames.reduce((s, frame) => streamReducer(s, { type: 'frame', frame }), initialStreamState(SESSION_ID));
  const runs = visibleRuns(live);
  const pitchRun = runs[runs.length - 1]!;

  it('regenerates a stage and branches from a finished round of the run shown', async () => {
    const user = userEvent.setup();
    const actions: TeamActions = {
      disabledReason: null,
      regenerateReason: null,
      regenerate: vi.fn(async () => ({ ok: true as const, value: {} as never })),
      branch: vi.fn(async () => ({ ok: true as const, value: session('b1', 'Branch') })),
    };
    render(<TeamPanel runs={runs} maxRounds={5} actions={actions} />);
    for (const stage of ['writers_room', 'box_office', 'casting', 'document']) expect(screen.getByTestId(`regenerate-${stage}`)).toBeEnabled();
    await user.click(screen.getByTestId('regenerate-casting'));
    expect(actions.regenerate).toHaveBeenCalledWith('casting');
    const [first] = screen.getAllByTestId('round');
    await user.click(within(first!).getByRole('button', { name: 'Branch from round 1' }));
    expect(actions.branch).toHaveBeenCalledWith({ from_round: 1, run_id: pitchRun.id });
  });

  it('says why nothing can be regenerated or branched during a run, and shows a refusal', async () => {
    const user = userEvent.setup();
    const busy: TeamActions = { disabledReason: RUN_IN_PROGRESS_REASON, regenerateReason: null, regenerate: vi.fn(), branch: vi.fn() };
    const { unmount } = render(<TeamPanel runs={runs} maxRounds={5} actions={busy} />);
    for (const button of [...screen.getAllByTestId('round-branch'), screen.getByTestId('regenerate-document')]) {
      expect(button).toBeDisabled();
      expect(button).toHaveAttribute('data-disabled-reason', RUN_IN_PROGRESS_REASON);
    }
    unmount();

    const refused: TeamActions = {
      disabledReason: null,
      regenerateReason: null,
      regenerate: vi.fn(async () => ({ ok: false as const, code: 'nothing_to_regenerate', status: 409, body: null, message: 'There is no pitch to regenerate yet.' })),
      branch: vi.fn(),
    };
    render(<TeamPanel runs={runs} maxRounds={5} actions={refused} />);
    await user.click(screen.getByTestId('regenerate-document'));
    expect(await screen.findByTestId('regenerate-error')).toHaveTextContent('There is no pitch to regenerate yet.');
  });
});

describe('the chat', () => {
  it('shows an edit and an undo as one line each, not as a team run; a regeneration says what it redoes', () => {
    const done = (run: RunView): RunView => ({ ...run, status: 'completed', startedAt: null });
    renderChat([
      done(newRun('e1', 'Edited by hand: Logline, Act II', 'history', 'edit')),
      done(newRun('u1', 'Undid the edit by hand: Edited by hand: Logline, Act II', 'history', 'undo')),
      done(newRun('g1', 'Regenerate: the casting report', 'history', 'regenerate', 'casting')),
    ]);
    const lines = screen.getAllByTestId('producer-change');
    expect(lines.map((l) => l.textContent)).toEqual(['You edited Logline, Act II', 'You undid your edit of Logline, Act II']);
    expect(lines.map((l) => l.dataset.kind)).toEqual(['edit', 'undo']);
    expect(screen.queryByTestId('user-message')).toBeNull();
    expect(screen.getByTestId('regenerate-line')).toHaveTextContent('You asked the team to redo the casting report');
  });
});

describe('the API client', () => {
  it('keeps the error code and its fields (a stale edit tells the current version)', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify({ detail: 'The edit was made on state version 3, but the session is at version 5 now.', code: 'stale_version', current_version: 5 }), { status: 409, headers: { 'content-type': 'application/json' } })),
    );
    const err = await api.editState('s1', 3, { PLOT_OUTLINE: OUTLINE }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: 'stale_version', body: expect.objectContaining({ current_version: 5 }) });
    await act(async () => undefined);
  });
});


describe('the documents', () => {
  it('marks a version an undo took back, and keeps it downloadable', () => {
    const url = (v: number) => `/api/v1/sessions/s/pitches/ada.md?version=${v}&format=markdown`;
    render(
      <DocumentsPanel
        loading={false}
        error={null}
        pitches={[
          {
            filename: 'ada.md',
            latest_version: 1,
            versions: [
              { version: 0, revision: 0, undone: false, notes: [], created_at: null, size: 10, markdown_url: url(0), pdf_url: url(0) },
              { version: 1, revision: 1, undone: true, notes: [], created_at: null, size: 10, markdown_url: url(1), pdf_url: url(1) },
            ],
          },
        ]}
      />,
    );
    const [newest, first] = screen.getAllByTestId('document-version');
    expect(within(newest!).getByTestId('version-undone')).toHaveTextContent('undone');
    expect(within(newest!).getByTestId('download-markdown')).toHaveAttribute('href', url(1));
    expect(within(first!).queryByTestId('version-undone')).toBeNull();
  });
});
