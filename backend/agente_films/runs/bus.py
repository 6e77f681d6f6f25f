"""Where run frames go: numbered per session, kept for replay, read live by any number of sockets.

Embedded mode keeps them in process memory. A reader names the last sequence number it saw and
gets everything after it, then the live stream; if those frames are gone (buffer trimmed, or a
restart began a new stream), it is told to resync from the REST history instead.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

Frame = dict[str, Any]


class EventBus(Protocol):
    async def publish(self, session_id: str, frame: Frame) -> Frame: ...

    def subscribe(self, session_id: str, after_seq: int, stream_id: str | None) -> AsyncIterator[Frame]: ...

    async def position(self, session_id: str) -> tuple[str, int]: ...

    async def forget(self, session_id: str) -> None: ...

    async def expire(self, session_id: str, ttl_seconds: int) -> None: ...


@dataclass
class _Stream:
    stream_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    # Frames as JSON text: strings are not tracked by the garbage collector, and a busy process
    # holds hundreds of thousands of frames (as dicts they lengthened every full collection).
    frames: deque[str] = field(default_factory=deque)
    last_seq: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    expiry: asyncio.TimerHandle | None = None

    @property
    def oldest_seq(self) -> int:
        """The buffer holds a contiguous run of sequence numbers ending at last_seq."""
        return self.last_seq - len(self.frames) + 1


def resync_frame(stream_id: str, last_seq: int, reason: str) -> Frame:
    """A connection-level frame (no seq): reload history over REST, then follow from last_seq."""
    return {
        "type": "CUSTOM",
        "name": "resync",
        "value": {"stream": stream_id, "lastSeq": last_seq, "reason": reason},
    }


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
        while len(stream.frames) > self._max:
            stream.frames.popleft()
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
        stream.expiry = asyncio.get_running_loop().call_later(ttl_seconds, stream.frames.clear)

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
        while True:
            if self._streams.get(session_id) is not stream:
                return  # session deleted
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
