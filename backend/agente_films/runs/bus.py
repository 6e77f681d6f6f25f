"""Where run frames go: numbered per session, kept for replay, read live by any number of sockets.

Embedded mode keeps them in process memory. A reader names the last sequence number it saw and
gets the frames after it, then the live stream; if those frames are gone (buffer trimmed, or a
restart began a new stream), it is told to resync from the REST history instead.

A replay always starts at a point a stock AG-UI consumer accepts: a reader whose `after` falls
inside a run gets that run again from its RUN_STARTED (frames it has seen carry seqs it already
applied, which clients skip), never a TEXT_MESSAGE_CONTENT without its START.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections import deque
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from agente_films import protocol as p

Frame = dict[str, Any]
_RUN_STARTED = "RUN_STARTED"


class EventBus(Protocol):
    async def publish(self, session_id: str, frame: Frame) -> Frame: ...

    def subscribe(self, session_id: str, after_seq: int, stream_id: str | None) -> AsyncIterator[Frame]: ...

    async def position(self, session_id: str) -> tuple[str, int]: ...

    async def forget(self, session_id: str) -> None: ...

    async def expire(self, session_id: str, ttl_seconds: int) -> None: ...

    async def restart(self, session_id: str) -> None: ...


def consistent_start(after: int, earlier: Iterable[tuple[int, str]]) -> int:
    """Where a replay for a reader that saw up to `after` begins (the cursor it starts after).
    `earlier` yields (seq, type) from `after` backwards: inside a run, the run starts again."""
    for seq, kind in earlier:
        if kind in p.TERMINAL_TYPES:
            return after
        if kind == _RUN_STARTED:
            return seq - 1
    return after


class LocalAnnouncer:
    """Control messages for this process's sockets of a session, bypassing the bus: how a run
    ended reaches its sockets even when Redis is down."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[Frame]]] = defaultdict(set)

    def announce(self, session_id: str, message: BaseModel) -> None:
        for queue in self._queues.get(session_id, ()):
            queue.put_nowait(p.dump(message))

    @contextmanager
    def listen(self, session_id: str) -> Iterator[asyncio.Queue[Frame]]:
        queue: asyncio.Queue[Frame] = asyncio.Queue()
        self._queues[session_id].add(queue)
        try:
            yield queue
        finally:
            self._queues[session_id].discard(queue)
            if not self._queues[session_id]:
                del self._queues[session_id]


@dataclass
class _Stream:
    stream_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    # Frames as JSON text: strings are not tracked by the garbage collector, and a busy process
    # holds hundreds of thousands of frames (as dicts they lengthened every full collection).
    frames: deque[str] = field(default_factory=deque)
    # The type of each frame, for finding where a replay may start without parsing them.
    kinds: deque[str] = field(default_factory=deque)
    last_seq: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    expiry: asyncio.TimerHandle | None = None

    @property
    def oldest_seq(self) -> int:
        """The buffer holds a contiguous run of sequence numbers ending at last_seq."""
        return self.last_seq - len(self.frames) + 1


def resync_frame(stream_id: str | None, last_seq: int, reason: p.ResyncReason) -> Frame:
    """A control message (no seq): reload history over REST, then follow from last_seq."""
    return p.dump(p.Resync(stream=stream_id, last_seq=last_seq, reason=reason))


class MemoryEventBus:
    def __init__(self, max_frames_per_session: int = 20_000) -> None:
        self._streams: dict[str, _Stream] = {}
        self._max = max_frames_per_session

    def _stream(self, session_id: str) -> _Stream:
        stream = self._streams.get(session_id)
        if stream is None:
            stream = self._streams[session_id] = _Stream()
        return stream

    async def publish(self, session_id: str, frame: Frame) -> Frame:
        stream = self._stream(session_id)
        if stream.expiry is not None:  # a new run keeps the frames
            stream.expiry.cancel()
            stream.expiry = None
        stream.last_seq += 1
        frame = {**frame, "seq": stream.last_seq, "timestamp": int(time.time() * 1000)}
        stream.frames.append(json.dumps(frame, ensure_ascii=False, default=str))
        stream.kinds.append(str(frame.get("type")))
        while len(stream.frames) > self._max:
            stream.frames.popleft()
            stream.kinds.popleft()
        async with stream.changed:
            stream.changed.notify_all()
        return frame

    async def position(self, session_id: str) -> tuple[str, int]:
        stream = self._stream(session_id)
        return stream.stream_id, stream.last_seq

    async def expire(self, session_id: str, ttl_seconds: int) -> None:
        """After a run ends its frames stay for late reconnects, then go (history has them all).
        The stream's id and numbering stay, so a reader asking for them later is told to resync."""
        stream = self._streams.get(session_id)
        if stream is None:
            return
        if stream.expiry is not None:
            stream.expiry.cancel()
        stream.expiry = asyncio.get_running_loop().call_later(ttl_seconds, self._drop_frames, stream)

    @staticmethod
    def _drop_frames(stream: _Stream) -> None:
        stream.frames.clear()
        stream.kinds.clear()

    async def restart(self, session_id: str) -> None:
        """A new stream for the session (new id, seq from 1): readers resync from the history."""
        old = self._streams.get(session_id)
        # The numbering goes on, so that a reader following along misses nothing of the new one.
        self._streams[session_id] = _Stream(last_seq=old.last_seq if old is not None else 0)
        if old is not None:
            if old.expiry is not None:
                old.expiry.cancel()
            async with old.changed:
                old.changed.notify_all()

    def _earlier(self, stream: _Stream, after: int) -> Iterator[tuple[int, str]]:
        oldest = stream.oldest_seq
        for seq in range(after, oldest - 1, -1):
            yield seq, stream.kinds[seq - oldest]

    async def forget(self, session_id: str) -> None:
        stream = self._streams.pop(session_id, None)
        if stream is not None:
            if stream.expiry is not None:
                stream.expiry.cancel()
            async with stream.changed:
                stream.changed.notify_all()

    async def subscribe(
        self, session_id: str, after_seq: int, stream_id: str | None
    ) -> AsyncIterator[Frame]:
        stream = self._stream(session_id)
        cursor = after_seq
        if stream_id is not None and stream_id != stream.stream_id:
            # The client followed another stream (before a restart): everything here is new to it.
            yield resync_frame(stream.stream_id, stream.last_seq, "new stream")
            cursor = 0
        elif cursor > stream.last_seq:
            yield resync_frame(stream.stream_id, stream.last_seq, "ahead of stream")
            cursor = 0
        if cursor >= stream.oldest_seq:
            cursor = consistent_start(cursor, self._earlier(stream, cursor))
        while True:
            current = self._streams.get(session_id)
            if current is None:
                return  # session deleted
            if current is not stream:  # restarted (a resume): follow the new stream
                stream = current
                yield resync_frame(stream.stream_id, stream.last_seq, "new stream")
            oldest = stream.oldest_seq
            if cursor + 1 < oldest:
                yield resync_frame(stream.stream_id, stream.last_seq, "frames trimmed")
                cursor = oldest - 1
            pending = list(itertools.islice(stream.frames, cursor + 1 - oldest, None))
            for text in pending:
                frame = json.loads(text)
                cursor = frame["seq"]
                yield frame
            async with stream.changed:
                if stream.last_seq == cursor and self._streams.get(session_id) is stream:
                    await stream.changed.wait()


# Publishing is one atomic step: next seq, the stream's id (made on first use), the entry itself
# (its id is 0-<seq>, so XREAD from 0-<n> returns exactly the frames after seq n), and no expiry
# while a run writes to it.
_PUBLISH = """
local seq = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[3], ARGV[3], 'NX')
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '0-' .. seq, 'frame', ARGV[1])
redis.call('PERSIST', KEYS[1]) redis.call('PERSIST', KEYS[2]) redis.call('PERSIST', KEYS[3])
return seq
"""


class RedisEventBus:
    """One Redis stream per session: any instance publishes, any instance serves the socket."""

    def __init__(self, redis: Any, *, max_frames_per_session: int = 20_000, block_ms: int = 5_000) -> None:
        self.redis = redis
        self._max = max_frames_per_session
        self._block_ms = block_ms
        self._publish = redis.register_script(_PUBLISH)

    @staticmethod
    def _keys(session_id: str) -> tuple[str, str, str]:
        prefix = f"agente_films:run_stream:{session_id}"
        return f"{prefix}:frames", f"{prefix}:seq", f"{prefix}:id"

    async def publish(self, session_id: str, frame: Frame) -> Frame:
        frame = {**frame, "timestamp": int(time.time() * 1000)}
        seq = await self._publish(
            keys=self._keys(session_id),
            args=[json.dumps(frame, ensure_ascii=False, default=str), self._max, uuid.uuid4().hex[:12]],
        )
        return {**frame, "seq": int(seq)}

    async def position(self, session_id: str) -> tuple[str, int]:
        _, seq_key, id_key = self._keys(session_id)
        await self.redis.set(id_key, uuid.uuid4().hex[:12], nx=True)
        stream_id, seq = await self.redis.mget(id_key, seq_key)
        return _text(stream_id), int(seq or 0)

    async def expire(self, session_id: str, ttl_seconds: int) -> None:
        """After a run ends its frames stay for late reconnects, then go (history has them all).
        The stream's id and numbering stay: a reader still following gets the next run's frames,
        and one asking for the expired ones is told to resync."""
        frames_key, _, _ = self._keys(session_id)
        await self.redis.expire(frames_key, ttl_seconds)

    async def forget(self, session_id: str) -> None:
        await self.redis.delete(*self._keys(session_id))

    async def restart(self, session_id: str) -> None:
        """A new stream id and no old frames; the numbering goes on, so readers following along
        miss nothing, and readers coming back with the old id resync from the history."""
        frames_key, _, id_key = self._keys(session_id)
        await self.redis.delete(frames_key)
        await self.redis.set(id_key, uuid.uuid4().hex[:12])

    async def _earlier(self, frames_key: str, after: int) -> list[tuple[int, str]]:
        """(seq, type) from `after` back to the run's start, read from the newest end in pages."""
        found: list[tuple[int, str]] = []
        top = f"0-{after}"
        while True:
            page = await self.redis.xrevrange(frames_key, max=top, min="-", count=200)
            for entry_id, fields in page:
                seq = int(_text(entry_id).split("-", 1)[1])
                kind = str(json.loads(_text(fields[b"frame"] if b"frame" in fields else fields["frame"])).get("type"))
                found.append((seq, kind))
                if kind == _RUN_STARTED or kind in p.TERMINAL_TYPES:
                    return found
            if len(page) < 200:
                return found
            top = f"({_text(page[-1][0])}"

    async def subscribe(
        self, session_id: str, after_seq: int, stream_id: str | None
    ) -> AsyncIterator[Frame]:
        frames_key, _, _ = self._keys(session_id)
        current, last_seq = await self.position(session_id)
        cursor = after_seq
        if stream_id is not None and stream_id != current:
            yield resync_frame(current, last_seq, "new stream")
            cursor = 0
        elif cursor > last_seq:
            yield resync_frame(current, last_seq, "ahead of stream")
            cursor = 0
        if cursor < last_seq:
            first = await self.redis.xrange(frames_key, min=f"0-{cursor + 1}", count=1)
            oldest = int(_text(first[0][0]).split("-", 1)[1]) if first else last_seq + 1
            if oldest > cursor + 1:  # expired or trimmed: the reader cannot follow on from here
                yield resync_frame(current, last_seq, "frames trimmed")
                cursor = oldest - 1
            elif cursor > 0:
                cursor = consistent_start(cursor, await self._earlier(frames_key, cursor))
        while True:
            reply = await self.redis.xread({frames_key: f"0-{cursor}"}, count=500, block=self._block_ms)
            for _key, entries in reply or []:
                for entry_id, fields in entries:
                    seq = int(_text(entry_id).split("-", 1)[1])
                    if seq > cursor + 1:
                        current, last_seq = await self.position(session_id)
                        yield resync_frame(current, last_seq, "frames trimmed")
                    cursor = seq
                    yield {**json.loads(_text(fields[b"frame"] if b"frame" in fields else fields["frame"])), "seq": seq}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")
