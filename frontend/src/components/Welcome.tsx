import { Clapperboard } from 'lucide-react';
import { useState, type ReactNode } from 'react';

import type { Tone } from '../stream/frames';
import { SUGGESTIONS } from './ChatPanel';
import { Composer } from './Composer';
import { TopBar } from './TopBar';

interface Props {
  maxChars: number;
  onStart: (text: string, direction: Tone[]) => Promise<boolean>;
  onMenu: () => void;
  headerRight: ReactNode;
  serverError: string | null;
}

/** The start page: one box to name a subject, with direction chips; the session is created with the first message. */
export function Welcome({ maxChars, onStart, onMenu, headerRight, serverError }: Props) {
  const [starting, setStarting] = useState(false);
  // The chips go with the first message, typed or picked from the suggestions.
  const [direction, setDirection] = useState<Tone[]>([]);
  const start = async (text: string, chosen: Tone[] = direction) => {
    setStarting(true);
    const ok = await onStart(text, chosen);
    setStarting(false);
    if (ok) setDirection([]);
    return ok;
  };
  return (
    <div className="flex min-h-0 flex-1 flex-col" data-testid="welcome">
      <TopBar onMenu={onMenu} right={headerRight} />
      <div className="flex min-h-0 flex-1 flex-col overflow-y-auto">
        <div className="m-auto w-full max-w-2xl px-4 py-10">
          <div className="mb-8 text-center">
            <div className="mx-auto mb-5 flex size-12 items-center justify-center rounded-2xl bg-gradient-to-br from-indigo-500 to-violet-600 text-white shadow-lg shadow-indigo-500/25">
              <Clapperboard aria-hidden className="size-6" />
            </div>
            <h1 className="text-2xl font-semibold tracking-tight sm:text-3xl">Pitch a film about anyone in history</h1>
            <p className="mx-auto mt-3 max-w-lg text-[0.9375rem] leading-relaxed text-zinc-500 dark:text-zinc-400">
              Name a person or an event. Watch a researcher, a screenwriter and a critic shape the story round by round, while box-office
              and casting experts work side by side, and download the finished pitch.
            </p>
          </div>
          <Composer
            busy={starting}
            cancelling={false}
            maxChars={maxChars}
            onSend={start}
            direction={direction}
            onDirectionChange={setDirection}
            autoFocus
            disabled={Boolean(serverError)}
            disabledReason={serverError ?? undefined}
          />
          <div className="mt-4 flex flex-wrap justify-center gap-2">
            {SUGGESTIONS.map((s) => (
              <button
                key={s}
                type="button"
                disabled={starting || Boolean(serverError)}
                onClick={() => void start(s)}
                className="rounded-full border border-zinc-200 bg-white px-3.5 py-1.5 text-sm text-zinc-700 shadow-xs transition-colors hover:border-zinc-300 hover:bg-zinc-50 disabled:opacity-50 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-300 dark:hover:bg-zinc-800"
              >
                {s}
              </button>
            ))}
          </div>
        </div>
      </div>
    </div>
  );
}
