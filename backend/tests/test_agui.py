"""POST /api/v1/agui, the standard AG-UI endpoint: the stock @ag-ui/client HttpAgent against a real
uvicorn process (offline model, SQLite), its refusals, and the SSE generator in-process."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from agente_films.api.routes import agui
from agente_films.runs.manager import ActiveRun
from tests.conftest import FRONTEND, ServerProcess, need_service, offline_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from offline_server(tmp_path_factory, "agui")


def run_input(thread_id: str, text: str | None = "Ada Lovelace", run_id: str = "client-run", **extra: Any) -> dict:
    messages = [] if text is None else [{"id": str(uuid.uuid4()), "role": "user", "content": text}]
    return {
        "threadId": thread_id, "runId": run_id, "messages": messages, "state": {}, "tools": [], "context": [],
        "forwardedProps": {}, **extra,
    }


def http_agent(server: ServerProcess, thread_id: str, *args: str) -> dict:
    """frontend/conformance/verify.mjs --http: the stock HttpAgent runs against the endpoint."""
    node = shutil.which("node")
    if node is None or not (FRONTEND / "node_modules" / "@ag-ui" / "client").exists():
        need_service("node with frontend/node_modules", "run `make test` (it installs them)")
    done = subprocess.run(
        [node, "conformance/verify.mjs", "--http", f"{server.url}/api/v1/agui", "--thread", thread_id,
         "--message", "Ada Lovelace", *args],
        capture_output=True, text=True, cwd=FRONTEND, timeout=120,
    )
    assert done.stdout, done.stderr
    return json.loads(done.stdout)


async def read_events(response: httpx.Response | AsyncIterator[str], until: int | None = None) -> list[dict]:
    """SSE `data:` events of a streamed response or its lines (all of them, or the first `until`)."""
    events: list[dict] = []
    lines = response.aiter_lines() if isinstance(response, httpx.Response) else response
    async for line in lines:
        if line.startswith("data: "):
            events.append(json.loads(line[6:]))
            if until is not None and len(events) >= until:
                break
    return events


async def wait_for_run(api: httpx.AsyncClient, session_id: str, run_id: str, timeout: float = 60) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            run = (await api.get(f"/sessions/{session_id}/runs/{run_id}")).json()
            if run["status"] != "running":
                return run
            await asyncio.sleep(0.2)


async def test_the_stock_http_agent_runs_a_pitch(server: ServerProcess, api: httpx.AsyncClient) -> None:
    thread = str(uuid.uuid4())
    report = await asyncio.to_thread(http_agent, server, thread, "--run", "client-run-1")
    assert report["error"] is None and report["verify"]["ok"], report["verify"]
    events = report["events"]
    assert events[0]["type"] == "RUN_STARTED"
    assert events[0]["runId"] == "client-run-1" and events[0]["threadId"] == thread
    assert events[-1]["type"] == "RUN_FINISHED" and events[-1]["outcome"]["type"] == "success"
    assert events[-1]["threadId"] == thread
    assert all(e["runId"] == "client-run-1" for e in events if "runId" in e)
    assert any(
        e["type"] == "TEXT_MESSAGE_CONTENT" and e.get("agent") in ("file_writer", "casting_agent") for e in events
    )
    server_run_id = events[0]["serverRunId"]

    # The thread became a session of the caller (the default user), with the run and its pitch.
    session = await api.get(f"/sessions/{thread}")
    assert session.status_code == 200 and session.json()["title"] == "Ada Lovelace"
    history = (await api.get(f"/sessions/{thread}/history")).json()
    assert [item["question"]["id"] for item in history["items"]] == [server_run_id]
    assert history["items"][0]["question"]["run_status"] == "completed"
    pitches = (await api.get(f"/sessions/{thread}/pitches")).json()
    assert len(pitches) == 1

    # The documented high-level path (runAgent: the client's own checks on every event), on the
    # same thread: a second run of the session.
    second = await asyncio.to_thread(http_agent, server, thread, "--run", "client-run-2", "--mode", "runAgent")
    assert second["error"] is None and second["verify"]["ok"], (second["error"], second["verify"])
    assert second["events"][0]["type"] == "RUN_STARTED" and second["events"][-1]["type"] == "RUN_FINISHED"


async def test_bad_input_is_refused_with_json(server: ServerProcess, api: httpx.AsyncClient) -> None:
    not_uuid = await api.post("/agui", json=run_input("not-a-uuid"))
    assert not_uuid.status_code == 422 and "UUID" in not_uuid.json()["detail"]

    no_message = await api.post("/agui", json=run_input(str(uuid.uuid4()), text=None))
    assert no_message.status_code == 422 and "no user message" in no_message.json()["detail"]
    only_assistant = run_input(str(uuid.uuid4()), text=None)
    only_assistant["messages"] = [{"id": "a1", "role": "assistant", "content": "Hello"}]
    assert (await api.post("/agui", json=only_assistant)).status_code == 422
    blank_parts = run_input(str(uuid.uuid4()), text=None)
    blank_parts["messages"] = [{"id": "u1", "role": "user", "content": [{"type": "text", "text": "   "}]}]
    assert (await api.post("/agui", json=blank_parts)).status_code == 422
    too_long = await api.post("/agui", json=run_input(str(uuid.uuid4()), text="x" * 501))
    assert too_long.status_code == 413

    not_input = await api.post("/agui", json={"threadId": str(uuid.uuid4())})
    assert not_input.status_code == 422 and isinstance(not_input.json()["detail"], list)



async def test_input_is_neither_echoed_whole_nor_amplified(server: ServerProcess, api: httpx.AsyncClient) -> None:
    """A huge threadId is quoted, not echoed (a 900 KB one came back whole); a huge runId, which
    every event of the stream would repeat (900 KB made a 24 MB answer), is refused."""
    huge = "x" * 900_000
    thread = await api.post("/agui", json=run_input(huge))
    assert thread.status_code == 422 and "UUID" in thread.json()["detail"], thread.text[:300]
    assert len(thread.content) < 1_000 and "900000 characters" in thread.json()["detail"]

    run_id = await api.post("/agui", json=run_input(str(uuid.uuid4()), run_id=huge))
    assert run_id.status_code == 422 and len(run_id.content) < 1_000, run_id.text[:300]
    assert run_id.json()["code"] == "bad_request" and "runId must be 1-128 characters" in run_id.json()["detail"]
    for bad in ("", "r" * 129, "run\x00id", "run\x1bid"):
        refused = await api.post("/agui", json=run_input(str(uuid.uuid4()), run_id=bad))
        assert refused.status_code == 422 and "runId" in refused.json()["detail"], (bad, refused.text)
    # 128 characters pass the runId check (the missing message is what is refused here).
    longest = await api.post("/agui", json=run_input(str(uuid.uuid4()), text=None, run_id="r" * 128))
    assert longest.status_code == 422 and "no user message" in longest.json()["detail"]


async def test_a_second_run_on_a_busy_thread_is_409(server: ServerProcess, api: httpx.AsyncClient) -> None:
    thread = str(uuid.uuid4())
    async with api.stream("POST", "/agui", json=run_input(thread, run_id="first")) as first:
        assert first.status_code == 200
        assert first.headers["content-type"].startswith("text/event-stream")
        lines = first.aiter_lines()
        (started,) = await read_events(lines, until=1)
        assert started["type"] == "RUN_STARTED"
        second = await api.post("/agui", json=run_input(thread, "Hypatia", run_id="second"))
        assert second.status_code == 409
        assert second.json()["run_id"] == started["serverRunId"]
        rest = await read_events(lines)
    assert rest[-1]["type"] == "RUN_FINISHED" and all(e["runId"] == "first" for e in rest)


async def test_parts_and_ignored_state(server: ServerProcess, api: httpx.AsyncClient) -> None:
    thread = str(uuid.uuid4())
    body = run_input(thread, text=None, run_id="parts", state={"PROMPT": "hijack", "app:x": 1, "temp:y": 2})
    body["messages"] = [
        {"id": "u0", "role": "user", "content": "an earlier message"},
        {"id": "a0", "role": "assistant", "content": "an answer"},
        {"id": "u1", "role": "user", "content": [{"type": "text", "text": "Marie"}, {"type": "text", "text": "Curie"}]},
    ]
    async with api.stream("POST", "/agui", json=body) as response:
        events = await read_events(response)
    assert events[0]["question"] == "Marie\nCurie"
    assert events[-1]["type"] == "RUN_FINISHED"
    state = (await api.get(f"/sessions/{thread}/state")).json()
    flat = json.dumps(state)
    assert "hijack" not in flat and "app:x" not in flat and "temp:y" not in flat


async def test_a_client_that_goes_away_does_not_stop_the_run(server: ServerProcess, api: httpx.AsyncClient) -> None:
    thread = str(uuid.uuid4())
    async with api.stream("POST", "/agui", json=run_input(thread, "Grace Hopper", run_id="leaver")) as response:
        events = await read_events(response, until=5)
    assert events[0]["type"] == "RUN_STARTED"
    run_id = events[0]["serverRunId"]
    run = await wait_for_run(api, thread, run_id)
    assert run["status"] == "completed"
    assert (await api.get(f"/sessions/{thread}/pitches")).json()


# -- the SSE generator in-process ----------------------------------------------------------------


class FakeBus:
    """A bus that yields the given items, then nothing for `silence` seconds (or forever)."""

    def __init__(self, items: list[dict], silence: float | None = None) -> None:
        self.items = items
        self.silence = silence
        self.subscribed: list[tuple[str, int, str | None]] = []

    async def subscribe(self, session_id: str, after_seq: int, stream_id: str | None) -> AsyncIterator[dict]:
        self.subscribed.append((session_id, after_seq, stream_id))
        for item in self.items:
            yield item
        await asyncio.sleep(3600 if self.silence is None else self.silence)


def active_run(run_id: str = "server-run") -> ActiveRun:
    return ActiveRun(session_id="s1", run_id=run_id, owner=f"me/{run_id}")


async def collect(stream: AsyncIterator[str], limit: int = 100, timeout: float = 5) -> list[str]:
    out: list[str] = []
    async with asyncio.timeout(timeout):
        async for chunk in stream:
            out.append(chunk)
            if len(out) >= limit:
                break
    return out


def data(chunks: list[str]) -> list[dict]:
    return [json.loads(c.removeprefix("data: ")) for c in chunks if c.startswith("data: ")]


async def test_keepalive_comments_while_nothing_comes() -> None:
    bus = FakeBus([])
    stream = agui.agui_stream(
        bus, active_run(), session_id="s1", stream_id="abc", after_seq=7, client_run_id="c", keepalive_seconds=0.05
    )
    chunks = await collect(stream, limit=2)
    await stream.aclose()
    assert chunks == [agui.KEEPALIVE, agui.KEEPALIVE] and agui.KEEPALIVE == ": keep-alive\n\n"
    assert bus.subscribed == [("s1", 7, "abc")]


async def test_keepalive_interval_is_the_module_constant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agui, "KEEPALIVE_SECONDS", 0.05)
    stream = agui.agui_stream(FakeBus([]), active_run(), session_id="s1", stream_id=None, after_seq=0, client_run_id="c")
    assert await collect(stream, limit=1) == [agui.KEEPALIVE]
    await stream.aclose()


async def test_forwards_only_its_run_with_the_client_run_id() -> None:
    ours, other = "server-run", "other-run"
    items = [
        {"type": "RUN_STARTED", "runId": other, "threadId": "s1", "seq": 1, "question": "q"},
        {"type": "RUN_FINISHED", "runId": other, "threadId": "s1", "seq": 2, "result": {"status": "completed"}},
        {"control": "resync", "stream": "new", "lastSeq": 2, "reason": "new stream"},
        {"type": "RUN_STARTED", "runId": ours, "threadId": "s1", "seq": 3, "question": "q"},
        {"type": "TEXT_MESSAGE_START", "runId": ours, "messageId": "m", "role": "assistant", "seq": 4},
        {"type": "TEXT_MESSAGE_START", "runId": ours, "messageId": "m", "role": "assistant", "seq": 4},  # replayed
        {"type": "TEXT_MESSAGE_CONTENT", "runId": ours, "messageId": "m", "delta": "Hi", "seq": 5},
        {"type": "TEXT_MESSAGE_END", "runId": ours, "messageId": "m", "seq": 6},
        {"type": "RUN_FINISHED", "runId": ours, "threadId": "s1", "seq": 7, "result": {"status": "completed"},
         "outcome": {"type": "success"}},
        {"type": "RUN_STARTED", "runId": "later", "threadId": "s1", "seq": 8, "question": "q"},
    ]
    chunks = await collect(
        agui.agui_stream(FakeBus(items), active_run(ours), session_id="s1", stream_id=None, after_seq=0,
                         client_run_id="client", keepalive_seconds=10)
    )
    assert all(c.startswith("data: ") and c.endswith("}\n\n") and "\r" not in c for c in chunks)
    events = data(chunks)
    assert [e["type"] for e in events] == [
        "RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"
    ]
    assert all(e["runId"] == "client" for e in events) and [e["seq"] for e in events] == [3, 4, 5, 6, 7]
    assert events[0]["serverRunId"] == ours and events[0]["threadId"] == "s1"


async def test_a_run_whose_end_never_reaches_the_bus_still_ends_the_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agui, "END_GRACE_SECONDS", 0.05)
    monkeypatch.setattr(agui, "POLL_SECONDS", 0.02)
    run = active_run()
    run.status = "failed"
    run.done.set()
    items = [{"type": "RUN_STARTED", "runId": run.run_id, "threadId": "s1", "seq": 1, "question": "q"}]
    events = data(await collect(
        agui.agui_stream(FakeBus(items), run, session_id="s1", stream_id=None, after_seq=0, client_run_id="c",
                         keepalive_seconds=10)
    ))
    assert [e["type"] for e in events] == ["RUN_STARTED", "RUN_ERROR"]
    assert all(e["runId"] == "c" for e in events)


async def test_closing_the_stream_leaves_the_run_alone() -> None:
    run = active_run()
    run.task = asyncio.create_task(asyncio.sleep(3600))
    stream = agui.agui_stream(FakeBus([]), run, session_id="s1", stream_id=None, after_seq=0, client_run_id="c",
                              keepalive_seconds=0.02)
    consumer = asyncio.create_task(collect(stream, limit=1000, timeout=60))
    await asyncio.sleep(0.1)
    consumer.cancel()  # what Starlette does when the client disconnects
    with pytest.raises(asyncio.CancelledError):
        await consumer
    await stream.aclose()
    assert not run.task.done()
    run.task.cancel()


def test_client_state_is_ignored_but_for_the_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    assert agui.CLIENT_STATE_KEYS == frozenset()
    assert agui.client_state({"PROMPT": "x", "anything": 1}) == {}
    assert agui.client_state(["not", "a", "dict"]) == {}
    monkeypatch.setattr(agui, "CLIENT_STATE_KEYS", frozenset({"tone", "app:tone", "user:tone", "temp:tone"}))
    assert agui.client_state({"tone": "noir", "app:tone": 1, "user:tone": 2, "temp:tone": 3, "other": 4}) == {
        "tone": "noir"
    }
