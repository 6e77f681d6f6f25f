"""The run-frame bus, in memory (embedded mode) and on Redis: what a reader gets once a finished
run's frames have expired."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from agente_films.runs.bus import EventBus, MemoryEventBus, RedisEventBus


@pytest.fixture(params=["memory", "redis"])
def bus(request: pytest.FixtureRequest) -> EventBus:
    if request.param == "memory":
        return MemoryEventBus()
    return RedisEventBus(request.getfixturevalue("redis"), block_ms=200)


async def take(frames: AsyncIterator[dict], count: int) -> list[dict]:
    taken = []
    async for frame in frames:
        taken.append(frame)
        if len(taken) == count:
            break
    return taken


async def test_a_finished_runs_frames_expire_and_a_late_reader_is_told_to_resync(bus: EventBus) -> None:
    session = f"test-{uuid.uuid4()}"
    try:
        stream_id, _ = await bus.position(session)
        for index in range(3):
            await bus.publish(session, {"type": "X", "i": index})
        await bus.expire(session, 1)
        # Within the TTL a reconnect is replayed what it missed.
        assert [f["seq"] for f in await take(bus.subscribe(session, 1, stream_id), 2)] == [2, 3]
        follower = asyncio.create_task(take(bus.subscribe(session, 3, stream_id), 1))

        await asyncio.sleep(1.5)
        late = bus.subscribe(session, 1, stream_id)
        resync = await anext(late)
        assert resync == {"control": "resync", "stream": stream_id, "lastSeq": 3, "reason": "frames trimmed"}

        # The next run goes on from the same stream and numbering, to old and new readers alike.
        assert (await bus.publish(session, {"type": "NEXT"}))["seq"] == 4
        assert (await asyncio.wait_for(anext(late), 5))["seq"] == 4
        [followed] = await asyncio.wait_for(follower, 5)
        assert (followed["type"], followed["seq"]) == ("NEXT", 4)
        assert await bus.position(session) == (stream_id, 4)
    finally:
        await bus.forget(session)
