import { Check } from 'lucide-react';

import type { Tone } from '../stream/frames';
import { cx } from '../lib/format';

/** The direction chips, in the order shown; every Tone of the protocol has a label here. */
export const TONE_LABEL: Record<Tone, string> = {
  drama: 'Drama',
  thriller: 'Thriller',
  comedy: 'Comedy',
  family: 'Family',
  darker: 'Darker',
  lighter: 'Lighter',
};
export const TONES = Object.keys(TONE_LABEL) as Tone[];

/** Darker and lighter pull opposite ways: choosing one lets go of the other. */
const OPPOSITE: Partial<Record<Tone, Tone>> = { darker: 'lighter', lighter: 'darker' };

export function toggleTone(chosen: Tone[], tone: Tone): Tone[] {
  if (chosen.includes(tone)) return chosen.filter((t) => t !== tone);
  const opposite = OPPOSITE[tone];
  return TONES.filter((t) => t === tone || (chosen.includes(t) && t !== opposite));
}

/** Toggle buttons for the tone and genre the next message asks for; they travel with it as `direction`. */
export function DirectionChips({ value, onChange, disabled = false, className }: { value: Tone[]; onChange: (value: Tone[]) => void; disabled?: boolean; className?: string }) {
  return (
    <div role="group" aria-label="Direction" className={cx('flex flex-wrap items-center gap-1.5', className)} data-testid="direction-chips">
      {TONES.map((tone) => {
        const on = value.includes(tone);
        return (
          <button
            key={tone}
            type="button"
            aria-pressed={on}
            disabled={disabled}
            onClick={() => onChange(toggleTone(value, tone))}
            data-testid={`tone-${tone}`}
            className={cx(
              'inline-flex h-6 items-center gap-1 rounded-full px-2.5 text-xs font-medium ring-1 transition-colors ring-inset disabled:opacity-50',
              on
                ? 'bg-indigo-600 text-white ring-indigo-600 dark:bg-indigo-500 dark:ring-indigo-500'
                : 'bg-white text-zinc-600 ring-zinc-200 hover:bg-zinc-50 hover:text-zinc-900 dark:bg-zinc-900 dark:text-zinc-300 dark:ring-zinc-700 dark:hover:bg-zinc-800',
            )}
          >
            {on && <Check aria-hidden className="size-3" />}
            {TONE_LABEL[tone]}
          </button>
        );
      })}
    </div>
  );
}
