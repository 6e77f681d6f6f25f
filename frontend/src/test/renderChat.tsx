import { render } from '@testing-library/react';
import { vi } from 'vitest';

import { ChatPanel } from '../components/ChatPanel';
import type { RunView } from '../stream/types';

type ChatProps = Parameters<typeof ChatPanel>[0];

/** The chat panel over `runs`, with spies for its callbacks (busy while a run is running). */
export function renderChat(runs: RunView[], extra: Partial<ChatProps> = {}) {
  const props: ChatProps = {
    runs,
    pending: null,
    busy: runs.some((r) => r.status === 'running'),
    cancelling: false,
    load: { status: 'ready' },
    notices: [],
    maxChars: 8000,
    maxRounds: 5,
    onSend: vi.fn(async () => true),
    onStop: vi.fn(),
    onOpenTeam: vi.fn(),
    onDismissNotice: vi.fn(),
    onRetryLoad: vi.fn(),
    ...extra,
  };
  return { props, ...render(<ChatPanel {...props} />) };
}
