"""Several API instances on one PostgreSQL and one Redis: streams, locks, cancel, a killed
instance, and Redis going away and coming back."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from websockets.asyncio.client import connect

from agente_films.runs.bus import RedisEventBus
from agente_films.runs.locks import RedisRunLocks
from tests.conftest import REDIS_URL, create_pg_database, drop_pg_database, free_port, need_service

@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    url = await create_pg_database()
    yield url
    await drop_pg_database(url)


async def test_redis_stream_numbers_replays_and_resyncs(redis: Redis) -> None:
    bus = RedisEventBus(redis, block_ms=200)
    session = f"test-{uuid.uuid4()}"
    try:
        stream_id, last = await bus.position(session)
        assert last == 0
        for index in range(5):
            frame = await bus.publish(session, {"type": "X", "i": index})
            assert frame["seq"] == index + 1
        frames = []
        async for frame in bus.subscribe(session, 2, stream_id):
            frames.append(frame)
            if frame["seq"] == 5:
                break
        assert [(f["seq"], f["i"]) for f in frames] == [(3, 2), (4, 3), (5, 4)]

        resync = [f async for f in _take(bus.subscribe(session, 0, "another-stream"), 2)]
        assert resync[0]["control"] == "resync" and resync[1]["seq"] == 1

        # Live: a frame published while a reader waits reaches it.
        reader = asyncio.create_task(_first(bus.subscribe(session, 5, stream_id)))
        await asyncio.sleep(0.05)
        await bus.publish(session, {"type": "LIVE"})
        assert (await asyncio.wait_for(reader, 5))["type"] == "LIVE"

        await bus.expire(session, 1)
        assert 0 < await redis.ttl(bus._keys(session)[0]) <= 1
        await bus.publish(session, {"type": "AGAIN"})  # a new run keeps the stream alive
        assert await redis.ttl(bus._keys(session)[0]) == -1
    finally:
        await bus.forget(session)
    assert not await redis.exists(*bus._keys(session))


async def _take(iterator, count):  # noqa: ANN001, ANN202
    async for item in iterator:
        yield item
        count -= 1
        if count == 0:
            return


async def _first(iterator):  # noqa: ANN001, ANN202
    async for item in iterator:
        return item


async def test_redis_run_lock_is_exclusive_renewable_and_expires(redis: Redis) -> None:
    locks = RedisRunLocks(redis, ttl_seconds=0.5)
    session = f"test-{uuid.uuid4()}"
    assert await locks.acquire(session, "a/run1") is None
    assert await locks.acquire(session, "b/run2") == "a/run1"
    assert await locks.renew(session, "a/run1") and not await locks.renew(session, "b/run2")
    await locks.release(session, "b/run2")  # not b's to release
    assert await locks.holder(session) == "a/run1"
    await asyncio.sleep(0.7)
    assert await locks.holder(session) is None  # expired: the owner stopped renewing
    assert await locks.acquire(session, "b/run2") is None
    await locks.release(session, "b/run2")
    assert await locks.holder(session) is None


class Instance:
    def __init__(self, tmp: Path, pg_url: str, redis_url: str, name: str, **extra: str) -> None:
        from tests.conftest import ServerProcess, server_env

        env = server_env(pg_url, tmp, REDIS_URL=redis_url, RUN_LOCK_TTL_SECONDS="2", **extra)
        self.server = ServerProcess(env)
        self.log = tmp / f"{name}.log"

    def __enter__(self) -> Instance:
        self.server.start(self.log)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


async def follow(ws_url: str, session_id: str, until_run_over: bool = True) -> list[dict]:
    frames = []
    async with connect(f"{ws_url}/api/v1/ws/{session_id}") as socket:
        async with asyncio.timeout(90):
            while True:
                frame = json.loads(await socket.recv())
                frames.append(frame)
                if until_run_over and frame.get("type") in ("RUN_FINISHED", "RUN_ERROR"):
                    return frames


def wait_status(api: httpx.Client, session_id: str, run_id: str, wanted: set[str], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api.get(f"/sessions/{session_id}/runs/{run_id}").json()
        if run["status"] in wanted:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} never reached {wanted}: {run}")


async def test_two_instances_share_runs_streams_and_cancels(redis: Redis, pg_url: str, tmp_path: Path) -> None:
    # The offline model at its real pace: a round lasts long enough for a note to arrive.
    with Instance(tmp_path, pg_url, REDIS_URL, "a", OFFLINE_CHUNK_DELAY_MS="12") as a, \
         Instance(tmp_path, pg_url, REDIS_URL, "b", OFFLINE_CHUNK_DELAY_MS="12") as b, \
         httpx.Client(base_url=f"{a.server.url}/api/v1", timeout=30) as api_a, \
         httpx.Client(base_url=f"{b.server.url}/api/v1", timeout=30) as api_b:
        assert httpx.get(f"{b.server.url}/health").json()["redis"] == "ok"
        session_id = api_a.post("/sessions").json()["id"]
        watcher = asyncio.create_task(follow(b.server.ws_url, session_id))
        await asyncio.sleep(0.3)
        run_id = api_a.post(f"/sessions/{session_id}/messages/async", json={"content": "Ada Lovelace"}).json()["run_id"]

        # The run lives on A; B refuses a new subject with the same 409, and says why.
        busy = await asyncio.to_thread(api_b.post, f"/sessions/{session_id}/messages", json={"content": "Marie Curie"})
        assert busy.status_code == 409 and busy.json()["run_id"] == run_id and "Marie Curie" in busy.json()["detail"]
        assert busy.json()["code"] == "run_in_progress"
        assert api_b.get(f"/sessions/{session_id}").json()["active_run_id"] == run_id
        # A note sent to B reaches the run on A: stored at once, acknowledged and taken there.
        note = await asyncio.to_thread(api_b.post, f"/sessions/{session_id}/messages", json={"content": "Act II drags"})
        assert note.status_code == 202 and note.json()["run_id"] == run_id and note.json()["status"] == "pending"

        frames = await watcher
        seqs = [f["seq"] for f in frames if "seq" in f]
        assert seqs == list(range(1, len(seqs) + 1)) and frames[-1]["result"]["status"] == "completed"
        assert any(f.get("name") == "artifact_saved" for f in frames)
        note_id = note.json()["note_id"]
        assert [f["value"]["noteId"] for f in frames if f.get("name") == "note_received"] == [note_id]
        [taken] = [f["value"] for f in frames if f.get("name") == "note_taken"]
        [verdict] = [f["value"] for f in frames if f.get("name") == "note_verdict"]
        assert taken["noteId"] == verdict["noteId"] == note_id and verdict["addressed"] is True
        assert api_b.get(f"/sessions/{session_id}/runs/{run_id}").json()["status"] == "completed"

        # A cancel sent to B reaches the run on A.
        slow = api_a.post(f"/sessions/{session_id}/messages/async", json={"content": "Marie Curie"}).json()["run_id"]
        await asyncio.sleep(0.5)
        cancelled = await asyncio.to_thread(api_b.post, f"/sessions/{session_id}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["run_id"] == slow
        assert wait_status(api_b, session_id, slow, {"cancelled"})["status"] == "cancelled"


async def test_a_killed_instance_run_is_interrupted_then_resumed_elsewhere(redis: Redis, pg_url: str, tmp_path: Path) -> None:
    with Instance(tmp_path, pg_url, REDIS_URL, "a", OFFLINE_CHUNK_DELAY_MS="20") as a, \
         Instance(tmp_path, pg_url, REDIS_URL, "b", OFFLINE_CHUNK_DELAY_MS="2") as b, \
         httpx.Client(base_url=f"{a.server.url}/api/v1", timeout=30) as api_a, \
         httpx.Client(base_url=f"{b.server.url}/api/v1", timeout=60) as api_b:
        session_id = api_a.post("/sessions").json()["id"]
        run_id = api_a.post(f"/sessions/{session_id}/messages/async", json={"content": "Ada Lovelace"}).json()["run_id"]
        deadline = time.monotonic() + 30
        while "screenwriter" not in [x["agent_name"] for x in api_b.get(f"/sessions/{session_id}/runs/{run_id}").json()["answers"]]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        before = api_b.get(f"/sessions/{session_id}/history").json()
        a.server.stop(signal.SIGKILL)

        interrupted = wait_status(api_b, session_id, run_id, {"interrupted"}, timeout=20)
        assert "stopped before it finished" in interrupted["error"]
        after = api_b.get(f"/sessions/{session_id}/history").json()
        kept = {x["id"] for x in after["items"][0]["answers"]}
        assert {x["id"] for x in before["items"][0]["answers"]} <= kept  # nothing stored was lost

        resumed = api_b.post(f"/sessions/{session_id}/runs/{run_id}/resume")
        assert resumed.status_code == 202
        done = wait_status(api_b, session_id, run_id, {"completed", "failed"})
        assert done["status"] == "completed" and done["answers"][-1]["agent_name"] == "file_writer"
        pitch = api_b.get(f"/sessions/{session_id}/pitches").json()[0]
        document = api_b.get(pitch["versions"][0]["markdown_url"].removeprefix("/api/v1")).text
        assert "## Casting report" in document and "## Sources" in document


async def test_redis_down_gives_503_keeps_stored_runs_and_recovers(pg_url: str, tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        need_service("redis-server", "binary not installed")
    port = free_port()
    redis_cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    own_redis = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL)
    try:
        await asyncio.sleep(0.5)
        with Instance(tmp_path, pg_url, f"redis://127.0.0.1:{port}/0", "a") as a, \
             httpx.Client(base_url=f"{a.server.url}/api/v1", timeout=30) as api:
            session_id = api.post("/sessions").json()["id"]
            assert api.post(f"/sessions/{session_id}/messages", json={"content": "Ada Lovelace"}).json()["status"] == "completed"
            history = api.get(f"/sessions/{session_id}/history").json()

            own_redis.terminate()
            own_redis.wait()
            refused = api.post(f"/sessions/{session_id}/messages", json={"content": "hello"})
            assert refused.status_code == 503 and "Redis is unavailable" in refused.json()["detail"]
            health = httpx.get(f"{a.server.url}/health")
            assert health.status_code == 503 and health.json()["redis"].startswith("error")
            assert api.get(f"/sessions/{session_id}/history").json() == history  # stored runs untouched

            own_redis = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL)
            deadline = time.monotonic() + 20
            while httpx.get(f"{a.server.url}/health").status_code != 200:
                assert time.monotonic() < deadline, "service did not come back with Redis"
                time.sleep(0.3)
            again = api.post(f"/sessions/{session_id}/messages", json={"content": "hello"})
            assert again.status_code == 200 and again.json()["status"] == "completed"
    finally:
        own_redis.terminate()
        own_redis.wait()


async def test_a_socket_hears_how_the_run_ended_when_redis_dies_mid_run(tmp_path: Path) -> None:
    """Redis (the stream) stops mid-run: the run goes on and stores its work, and the socket on
    the instance that runs it still gets the run's end, from the process itself."""
    import shutil

    from tests.conftest import free_port, need_service

    binary = shutil.which("redis-server")
    if binary is None:
        need_service("redis-server", "not installed")
    port = free_port()
    private = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        await asyncio.sleep(0.3)
        with Instance(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/down.db", f"redis://127.0.0.1:{port}/0", "down",
                      OFFLINE_CHUNK_DELAY_MS="20") as instance:
            server = instance.server
            async with httpx.AsyncClient(base_url=f"{server.url}/api/v1", timeout=30) as api:
                session_id = (await api.post("/sessions", json={})).json()["id"]
                async with connect(f"{server.ws_url}/api/v1/ws/{session_id}") as socket:
                    assert json.loads(await socket.recv())["control"] == "hello"
                    await socket.send(json.dumps({"type": "message", "content": "Ada Lovelace"}))
                    async with asyncio.timeout(30):
                        while json.loads(await socket.recv()).get("type") != "STEP_STARTED":
                            pass
                    private.kill()
                    private.wait()
                    seen: list[dict] = []
                    async with asyncio.timeout(120):
                        while not any(m.get("control") == "run_ended" for m in seen):
                            seen.append(json.loads(await socket.recv()))
                ended = next(m for m in seen if m.get("control") == "run_ended")
                assert ended["status"] == "completed"
                assert any(m.get("code") == "stream_unavailable" for m in seen), "the socket said the stream was down"
                run = (await api.get(f"/sessions/{session_id}/runs/{ended['runId']}")).json()
                assert run["status"] == "completed" and run["answers"][-1]["agent_name"] == "file_writer"
    finally:
        if private.poll() is None:
            private.kill()


async def test_a_message_to_one_instance_waits_for_a_change_by_hand_on_another(
    redis: Redis, pg_url: str, tmp_path: Path
) -> None:
    """An edit or undo on instance A holds the session's lock for milliseconds, marked as a
    change: a message on instance B waits for it and then starts a run, never a note to it."""
    from agente_films.db.repositories import QuestionRepository
    from agente_films.runs.manager import ActiveRun
    from agente_films.studio import Studio
    from tests.conftest import make_settings

    a = await Studio.open(make_settings(pg_url, tmp_path / "a", redis_url=REDIS_URL))
    b = await Studio.open(make_settings(pg_url, tmp_path / "b", redis_url=REDIS_URL))
    try:
        row = await a.create_session("local")
        first = await a.runs.start(session_id=row.id, user_id="local", text="Ada Lovelace")
        await first.done.wait()
        owner = f"{a.runs.instance_id}/{uuid.uuid4()}#change"  # as RunManager.change_state claims
        assert await a.runs.locks.acquire(row.id, owner) is None
        said = asyncio.create_task(b.runs.say(session_id=row.id, user_id="local", text="make it darker"))
        await asyncio.sleep(0.4)
        assert not said.done()  # waiting for the change, not taking the message as a note
        await a.runs.locks.release(row.id, owner)
        run = await asyncio.wait_for(said, 10)
        assert isinstance(run, ActiveRun)
        await run.done.wait()
        async with b.sessionmaker() as db:
            assert await QuestionRepository(db).notes_of(row.id) == []
            assert (await QuestionRepository(db).get(run.run_id, row.id)).run_status == "completed"
    finally:
        await b.close()
        await a.close()
