import { CircleStop, SendHorizontal } from 'lucide-react';
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';

import type { Tone } from '../stream/frames';
import { cx } from '../lib/format';
import { DirectionChips } from './DirectionChips';
import { Button, Spinner } from './ui';

export const NOTE_PLACEHOLDER = "Note for the writers' room";

interface ComposerProps {
  /** Sending waits (a message is on its way and its run has not started yet). */
  busy: boolean;
  /** The team is at work: what is sent is a producer's note for the writers' room; Stop shows. */
  running?: boolean;
  cancelling: boolean;
  disabled?: boolean;
  disabledReason?: string;
  maxChars: number;
  placeholder?: string;
  autoFocus?: boolean;
  /** The direction chips chosen, when the caller holds them (its suggestions send them too). */
  direction?: Tone[];
  onDirectionChange?: (direction: Tone[]) => void;
  onSend: (text: string, direction: Tone[]) => Promise<boolean> | boolean;
  /** Words to put back (a refused note), unless the person has typed something since. */
  restore?: { text: string; at: number } | null;
  onStop?: () => void;
}

/** Enter sends, Shift+Enter makes a new line. While the team works, a message is a note for the
 * writers' room and Stop shows. Chosen direction chips go with the next message, then clear. */
export function Composer({ busy, running = false, cancelling, disabled = false, disabledReason, maxChars, placeholder, autoFocus, direction, onDirectionChange, onSend, onStop, restore }: ComposerProps) {
  const [text, setText] = useState('');
  useEffect(() => {
    if (restore) setText((current) => current || restore.text);
  }, [restore]);
  const [sending, setSending] = useState(false);
  const [ownDirection, setOwnDirection] = useState<Tone[]>([]);
  const chosen = direction ?? ownDirection;
  const setChosen = (value: Tone[]) => {
    if (onDirectionChange) onDirectionChange(value);
    if (direction === undefined) setOwnDirection(value);
  };
  const area = useRef<HTMLTextAreaElement>(null);
  const trimmed = text.trim();
  const tooLong = trimmed.length > maxChars;
  const canSend = !busy && !disabled && !sending && trimmed.length > 0 && !tooLong;

  useEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`;
  }, [text]);

  const submit = async () => {
    if (!canSend) return;
    setSending(true);
    const ok = await onSend(trimmed, chosen);
    setSending(false);
    if (ok) {
      setText('');
      setChosen([]);
    }
    area.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  };

  const hint = disabled
    ? disabledReason
    : tooLong
      ? `The message is ${trimmed.length} characters; the limit is ${maxChars}.`
      : running
        ? "The team is working on this pitch. What you send now is a note for the writers' room, taken at its next round; Stop ends the run and keeps the work so far."
        : null;
  const noteMode = running && !disabled;

  return (
    <div className="mx-auto w-full max-w-3xl">
      <div
        className={cx(
          'rounded-2xl border bg-white shadow-sm transition-colors focus-within:border-zinc-400 dark:bg-zinc-900 dark:focus-within:border-zinc-600',
          tooLong ? 'border-rose-300 dark:border-rose-500/50' : 'border-zinc-200 dark:border-zinc-800',
        )}
      >
        <label htmlFor="composer" className="sr-only">
          Message
        </label>
        <textarea
          id="composer"
          ref={area}
          rows={1}
          value={text}
          autoFocus={autoFocus}
          disabled={disabled}
          placeholder={noteMode ? NOTE_PLACEHOLDER : (placeholder ?? 'Name a historical figure or topic, e.g. Ada Lovelace')}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          aria-describedby={hint ? 'composer-hint' : undefined}
          data-testid="composer-input"
          className="block max-h-[200px] w-full resize-none bg-transparent px-4 pt-3.5 pb-2 text-[0.9375rem] leading-relaxed outline-none placeholder:text-zinc-400 disabled:cursor-not-allowed"
        />
        <DirectionChips value={chosen} onChange={setChosen} disabled={disabled} className="px-3.5 pb-2" />
        <div className="flex items-center gap-2 px-2.5 pb-2.5">
          <span className="hidden pl-1.5 text-xs text-zinc-400 sm:inline">
            <kbd className="font-sans">Enter</kbd> to send · <kbd className="font-sans">Shift</kbd>+<kbd className="font-sans">Enter</kbd> for a new line
          </span>
          {trimmed.length > maxChars * 0.8 && (
            <span className={cx('text-xs tabular-nums', tooLong ? 'text-rose-600' : 'text-zinc-400')}>
              {trimmed.length}/{maxChars}
            </span>
          )}
          <div className="ml-auto flex items-center gap-2">
            {running && onStop && (
              <Button variant="secondary" size="sm" icon={cancelling ? undefined : CircleStop} onClick={onStop} disabled={cancelling} data-testid="stop-button">
                {cancelling && <Spinner className="size-3.5" />}
                {cancelling ? 'Stopping…' : 'Stop'}
              </Button>
            )}
            <Button
              variant="primary"
              size="sm"
              icon={sending ? undefined : SendHorizontal}
              onClick={() => void submit()}
              disabled={!canSend}
              aria-label={noteMode ? 'Send note' : 'Send message'}
              data-testid="send-button"
              data-mode={noteMode ? 'note' : 'message'}
            >
              {sending && <Spinner className="size-3.5" />}
              {noteMode ? 'Send note' : 'Send'}
            </Button>
          </div>
        </div>
      </div>
      {hint && (
        <p id="composer-hint" className={cx('mt-2 px-1 text-xs', tooLong ? 'text-rose-600' : 'text-zinc-500 dark:text-zinc-400')} data-testid="composer-hint">
          {hint}
        </p>
      )}
    </div>
  );
}
