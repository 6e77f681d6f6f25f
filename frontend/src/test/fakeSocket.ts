/** A scripted stand-in for the browser WebSocket: tests push server frames and read what was sent. */
import type { ServerMessage } from '../stream/frames';

export class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  static all: FakeSocket[] = [];

  readyState = FakeSocket.CONNECTING;
  sent: Record<string, unknown>[] = [];
  onopen: ((e: Event) => void) | null = null;
  onmessage: ((e: MessageEvent) => void) | null = null;
  onclose: ((e: CloseEvent) => void) | null = null;
  onerror: ((e: Event) => void) | null = null;

  constructor(public url: string) {
    FakeSocket.all.push(this);
  }

  static latest(): FakeSocket {
    const socket = FakeSocket.all[FakeSocket.all.length - 1];
    if (!socket) throw new Error('no socket was opened');
    return socket;
  }

  open() {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.(new Event('open'));
  }

  receive(...frames: unknown[]) {
    for (const frame of frames) this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(frame) }));
  }

  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code = 1000) {
    if (this.readyState === FakeSocket.CLOSED) return;
    this.readyState = FakeSocket.CLOSED;
    this.onclose?.(new CloseEvent('close', { code }));
  }

  /** The server went away. */
  drop(code = 1006) {
    this.close(code);
  }
}

export function helloFrame(sessionId: string, stream = 'stream-1', lastSeq = 0, activeRunId: string | null = null): ServerMessage {
  return { control: 'hello', sessionId, stream, lastSeq, activeRunId, model: 'offline', protocolVersion: '1.0' };
}
