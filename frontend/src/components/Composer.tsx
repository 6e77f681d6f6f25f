import { CircleStop, SendHorizontal } from 'lucide-react';
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';

import { cx } from '../lib/format';
import { Button, Spinner } from './ui';

interface ComposerProps {
  busy: boolean;
  cancelling: boolean;
  disabled?: boolean;
  disabledReason?: string;
  maxChars: number;
  placeholder?: string;
  autoFocus?: boolean;
  onSend: (text: string) => Promise<boolean> | boolean;
  onStop?: () => void;
}

/** Enter sends, Shift+Enter makes a new line. While the team works, sending waits and Stop shows. */
export function Composer({ busy, cancelling, disabled = false, disabledReason, maxChars, placeholder, autoFocus, onSend, onStop }: ComposerProps) {
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
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
    const ok = await onSend(trimmed);
    setSending(false);
    if (ok) setText('');
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
    : busy
      ? 'The team is working on this pitch. You can send your next message when it finishes, or stop it now; the work so far is kept.'
      : tooLong
        ? `The message is ${trimmed.length} characters; the limit is ${maxChars}.`
        : null;

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
          placeholder={placeholder ?? 'Name a historical figure or topic, e.g. Ada Lovelace'}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          aria-describedby={hint ? 'composer-hint' : undefined}
          data-testid="composer-input"
          className="block max-h-[200px] w-full resize-none bg-transparent px-4 pt-3.5 pb-2 text-[0.9375rem] leading-relaxed outline-none placeholder:text-zinc-400 disabled:cursor-not-allowed"
        />
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
            {busy && onStop && (
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
              aria-label="Send message"
              data-testid="send-button"
            >
              {sending && <Spinner className="size-3.5" />}
              Send
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
