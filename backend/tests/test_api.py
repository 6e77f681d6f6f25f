"""REST and WebSocket API through a real uvicorn process on 127.0.0.1 (offline model, SQLite)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import ServerProcess, agui_verify, offline_server

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from offline_server(tmp_path_factory, "api")


async def new_session(api: httpx.AsyncClient) -> str:
    response = await api.post("/sessions", json={})
    assert response.status_code == 201
    return response.json()["id"]


class Socket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, frame: Any) -> None:
        await self.connection.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, timeout: float = 20) -> dict:
        return json.loads(await asyncio.wait_for(self.connection.recv(), timeout))

    async def until(self, predicate, timeout: float = 60) -> list[dict]:  # noqa: ANN001
        frames: list[dict] = []
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.recv(timeout)
                frames.append(frame)
                if predicate(frame):
                    return frames


def run_over(frame: dict) -> bool:
    return frame.get("type") in ("RUN_FINISHED", "RUN_ERROR")


async def open_socket(server: ServerProcess, session_id: str, query: str = "") -> tuple[Socket, dict]:
    connection = await connect(f"{server.ws_url}/api/v1/ws/{session_id}{query}")
    socket = Socket(connection)
    hello = await socket.recv()
    return socket, hello


async def test_a_run_streams_in_order_over_the_socket(server: ServerProcess, api: httpx.AsyncClient) -> None:
    session_id = await new_session(api)
    socket, hello = await open_socket(server, session_id)
    assert hello["control"] == "hello" and hello["lastSeq"] == 0 and hello["model"] == "offline"
    assert "type" not in hello, "control messages stay out of the AG-UI event stream"
    await socket.send({"type": "message", "content": "Ada Lovelace"})
    frames = await socket.until(run_over)
    await socket.connection.close()

    assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))
    assert agui_verify(frames)["ok"], "the stock AG-UI verifier and schemas accept the live stream"
    assert frames[0]["type"] == "RUN_STARTED"
    assert frames[-1]["result"]["status"] == "completed"
    # Every text message opens, streams, closes; every tool call has its args before its result.
    position = {(f["type"], f.get("toolCallId") or f.get("messageId")): i for i, f in enumerate(frames)}
    for (kind, key), index in position.items():
        if kind == "TEXT_MESSAGE_END":
            assert position[("TEXT_MESSAGE_START", key)] < index
        if kind == "TOOL_CALL_RESULT":
            assert position[("TOOL_CALL_START", key)] < position[("TOOL_CALL_END", key)] < index
    # Agents work inside their steps; the writers' room runs two rounds of three.
    steps = [(f["type"], f["stepName"], f.get("iteration")) for f in frames if f["type"].startswith("STEP_")]
    assert ("STEP_STARTED", "critic", 2) in steps and ("STEP_STARTED", "critic", 3) not in steps
    started = {name for kind, name, _ in steps if kind == "STEP_STARTED"}
    assert started >= {"greeter", "film_concept_team", "writers_room", "preproduction_team", "box_office_researcher", "casting_agent", "file_writer"}
    for frame in frames:
        if frame["type"] == "TEXT_MESSAGE_CONTENT":
            agent_step = next(i for i, s in enumerate(frames) if s["type"] == "STEP_STARTED" and s["stepName"] == frame["agent"])
            assert agent_step < frames.index(frame)
    # The streamed text is exactly what history stores.
    history = (await api.get(f"/sessions/{session_id}/history")).json()
    stored = {a["agent_name"]: a["answer_text"] for a in history["items"][0]["answers"]}
    streamed = "".join(f["delta"] for f in frames if f["type"] == "TEXT_MESSAGE_CONTENT" and f["agent"] == "casting_agent")
    assert streamed == stored["casting_agent"]
    saved = next(f for f in frames if f.get("name") == "artifact_saved")
    download = await api.get(saved["value"]["markdownUrl"].removeprefix("/api/v1"))
    assert download.status_code == 200 and "## Casting report" in download.text


async def test_reconnect_gets_missed_frames_then_the_live_stream(server: ServerProcess, api: httpx.AsyncClient) -> None:
    session_id = await new_session(api)
    first, hello = await open_socket(server, session_id)
    await first.send({"type": "message", "content": "Hypatia"})
    seen = await first.until(lambda f: f.get("seq", 0) >= 40)
    await first.connection.close()
    await asyncio.sleep(0.3)  # frames keep coming while nobody listens: the run is server-side

    stream = hello["stream"]
    second, hello2 = await open_socket(server, session_id, f"?after={seen[-1]['seq']}&stream={stream}")
    assert hello2["activeRunId"] is not None and hello2["lastSeq"] > seen[-1]["seq"]
    rest = await second.until(run_over)
    await second.connection.close()
    # A reconnect inside a run replays it from its RUN_STARTED (a consistent AG-UI stream); the
    # frames the client had carry seqs it already applied.
    assert rest[0]["type"] == "RUN_STARTED" and rest[0]["seq"] == 1
    assert agui_verify(rest)["ok"], "a mid-message reconnect is a valid AG-UI stream"
    new = [f for f in rest if f["seq"] > seen[-1]["seq"]]
    assert [f["seq"] for f in rest if f["seq"] <= seen[-1]["seq"]] == [f["seq"] for f in seen]
    seqs = [f["seq"] for f in seen + new]
    assert seqs == list(range(1, len(seqs) + 1))  # nothing lost, nothing twice

    # A full replay (a fresh tab) gets the same frames.
    third, _ = await open_socket(server, session_id)
    replay = await third.until(run_over)
    await third.connection.close()
    assert [f["seq"] for f in replay] == seqs and replay[-1] == rest[-1]

    # A client from before a restart (unknown stream id) is told to resync, then gets everything.
    fourth, _ = await open_socket(server, session_id, "?after=999&stream=older")
    resync = await fourth.recv()
    assert resync["control"] == "resync" and resync["lastSeq"] == seqs[-1]
    assert (await fourth.recv())["seq"] == 1
    await fourth.connection.close()


async def test_cancel_stops_the_run_keeps_its_work_and_the_session_goes_on(server: ServerProcess, api: httpx.AsyncClient) -> None:
    session_id = await new_session(api)
    socket, _ = await open_socket(server, session_id)
    await socket.send({"type": "message", "content": "Marie Curie"})
    head = await socket.until(lambda f: f["type"] == "TEXT_MESSAGE_CONTENT" and f["agent"] == "screenwriter")
    await socket.send({"type": "cancel"})
    frames = await socket.until(run_over, timeout=10)
    cancelled = head + frames
    assert frames[-1]["type"] == "RUN_FINISHED" and frames[-1]["result"]["status"] == "cancelled"
    assert frames[-1]["outcome"] == {"type": "cancelled"}

    run_id = frames[-1]["runId"]
    run = (await api.get(f"/sessions/{session_id}/runs/{run_id}")).json()
    assert run["status"] == "cancelled"
    assert "researcher" in [a["agent_name"] for a in run["answers"]]  # work done before the stop stays
    assert "file_writer" not in [a["agent_name"] for a in run["answers"]]
    assert (await api.get(f"/sessions/{session_id}")).json()["status"] == "cancelled"
    history = (await api.get(f"/sessions/{session_id}/history")).json()["items"][0]
    assert history["question"]["run_status"] == "cancelled" and history["question"]["run_error"] is None
    assert "error" not in [r["reasoning_type"] for r in history["reasoning"]]  # a stop is not a failure
    assert not any(f.get("name") == "agent_error" for f in frames)

    # The session is usable: the next message runs normally.
    await socket.send({"type": "message", "content": "hello"})
    frames = await socket.until(run_over)
    assert frames[-1]["result"]["status"] == "completed"
    # The cancelled run and the next one, as the socket delivered them, are one valid AG-UI stream.
    report = agui_verify(cancelled + frames)
    assert report["ok"], report
    await socket.connection.close()

    rest = await api.post(f"/sessions/{session_id}/cancel")
    assert rest.status_code == 409 and "No run" in rest.json()["detail"]


async def test_during_a_run_a_message_is_a_note_and_a_new_subject_gets_409(
    server: ServerProcess, api: httpx.AsyncClient
) -> None:
    session_id = await new_session(api)
    socket, _ = await open_socket(server, session_id)
    first = await api.post(f"/sessions/{session_id}/messages/async", json={"content": "Alan Turing"})
    assert first.status_code == 202 and first.json()["status"] == "running"
    run_id = first.json()["run_id"]
    # A note over REST: 202 and the note; one over the socket: acknowledged on the stream at once.
    rest_note = await api.post(f"/sessions/{session_id}/messages", json={"content": "Act II drags"})
    assert rest_note.status_code == 202, rest_note.json()
    assert rest_note.json()["run_id"] == run_id and rest_note.json()["applies_to"] == "the next round of the running run"
    await socket.send({"type": "message", "content": "give Joan Clarke a bigger role"})
    frames = await socket.until(lambda f: f.get("name") == "note_received" and f["value"]["text"].startswith("give"))
    note_id = frames[-1]["value"]["noteId"]
    assert frames[-1]["runId"] == run_id

    second = await api.post(f"/sessions/{session_id}/messages", json={"content": "Grace Hopper"})
    assert second.status_code == 409
    assert second.json() == {"detail": second.json()["detail"], "code": "run_in_progress", "run_id": run_id}
    assert "Grace Hopper" in second.json()["detail"] and "once this run finishes" in second.json()["detail"]
    await socket.send({"type": "message", "content": "Grace Hopper"})
    for bad, code in [(None, "run_in_progress"), ({"content": "  "}, "empty_message"),
                      ({"content": "z" * 501}, "message_too_long"),
                      ({"content": "darker", "direction": ["spooky"]}, "bad_frame")]:
        if bad is not None:
            await socket.send({"type": "message", **bad})
        frames += await socket.until(lambda f: f.get("control") == "error")
        assert frames[-1]["code"] == code, bad

    # Each note is taken at a round's start and judged by the critic (a note said after the
    # writers' room had finished is a revision right after the run).
    judged: dict[str, dict] = {}
    while len(judged) < 2:
        frames += await socket.until(lambda f: f.get("name") == "note_verdict")
        judged[frames[-1]["value"]["noteId"]] = frames[-1]["value"]
    frames += await socket.until(run_over)
    taken = {f["value"]["noteId"]: f["value"]["round"] for f in frames if f.get("name") == "note_taken"}
    assert set(taken) == set(judged) == {note_id, rest_note.json()["note_id"]}
    assert all(v["addressed"] for v in judged.values()) and "Joan Clarke" in judged[note_id]["verdict"]
    assert frames[-1]["type"] == "RUN_FINISHED"
    await socket.connection.close()
    history = (await api.get(f"/sessions/{session_id}/history")).json()
    asked = [(i["question"]["kind"], i["question"]["question_text"]) for i in history["items"]]
    assert asked[0] == ("message", "Alan Turing")
    assert ("note", "give Joan Clarke a bigger role") in asked and ("note", "Act II drags") in asked
    statuses = {i["question"]["question_text"]: i["question"]["note_status"] for i in history["items"]}
    assert statuses["give Joan Clarke a bigger role"] == statuses["Act II drags"] == "addressed"
    # A note has no run of its own.
    assert (await api.get(f"/sessions/{session_id}/runs/{note_id}")).status_code == 404
    assert (await api.post(f"/sessions/{session_id}/runs/{note_id}/resume")).status_code == 404
    # The rebuilt timeline tells the notes as the live stream did, and stock AG-UI accepts it.
    timeline = (await api.get(f"/sessions/{session_id}/timeline")).json()
    replayed = [f for run in timeline["runs"] for f in run["frames"]]
    assert {f["value"]["noteId"] for f in replayed if f.get("name") == "note_taken"} == set(taken)
    assert agui_verify(replayed)["ok"], agui_verify(replayed)


async def test_sync_message_documents_state_and_delete(server: ServerProcess, api: httpx.AsyncClient, tmp_path_factory) -> None:  # noqa: ANN001
    session_id = await new_session(api)
    response = await api.post(f"/sessions/{session_id}/messages", json={"content": "Ada Lovelace"})
    body = response.json()
    assert response.status_code == 200 and body["status"] == "completed"
    assert body["answers"][-1]["agent_name"] == "file_writer"

    pitches = (await api.get(f"/sessions/{session_id}/pitches")).json()
    assert len(pitches) == 1 and pitches[0]["latest_version"] == 0
    version = pitches[0]["versions"][0]
    markdown = await api.get(version["markdown_url"].removeprefix("/api/v1"))
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.headers["content-disposition"].startswith("attachment;")
    assert markdown.text.startswith("# ") and "## Sources" in markdown.text
    pdf = await api.get(version["pdf_url"].removeprefix("/api/v1"))
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert ".pdf" in pdf.headers["content-disposition"]
    missing = await api.get(f"/sessions/{session_id}/pitches/nope.md")
    assert missing.status_code == 404 and "nope.md" in missing.json()["detail"]
    traversal = await api.get(f"/sessions/{session_id}/pitches/..%2F..%2Fsecret.md")
    assert traversal.status_code == 404

    state = (await api.get(f"/sessions/{session_id}/state")).json()
    assert state["state"]["PROMPT"] == "Ada Lovelace" and state["version"] > 5
    versions = (await api.get(f"/sessions/{session_id}/states")).json()
    assert [v["version"] for v in versions] == list(range(1, state["version"] + 1))
    first_draft = next(v for v in versions if "PLOT_OUTLINE" in v["changed_keys"] and v["agent_name"] == "screenwriter")
    snapshot = (await api.get(f"/sessions/{session_id}/states/{first_draft['version']}")).json()
    assert snapshot["state_value"]["PLOT_OUTLINE"] != state["state"]["PLOT_OUTLINE"]  # the earlier draft
    missing_version = await api.get(f"/sessions/{session_id}/states/9999")
    assert missing_version.status_code == 404 and missing_version.json()["code"] == "not_found"

    events = (await api.get(f"/sessions/{session_id}/events", params={"run_id": body["run_id"]})).json()
    rounds = [e["event_data"]["iteration"] for e in events if e["agent_name"] == "critic" and e["event_type"] == "agent_start"]
    assert rounds == [1, 2]
    history = (await api.get(f"/sessions/{session_id}/history")).json()["items"][0]
    assert history["question"]["resumable"] is False and "invocation_id" not in history["question"]
    call = next(r for r in history["reasoning"] if r["reasoning_type"] == "tool_call")
    assert call["event_id"] and any(e["event_id"] == call["event_id"] for e in events)

    listed = (await api.get("/sessions", params={"limit": 100})).json()
    assert listed["items"][0]["id"] == session_id and listed["items"][0]["subject"] == "Ada Lovelace"
    created = [item["created_at"] for item in listed["items"]]
    assert created == sorted(created, reverse=True)
    renamed = await api.patch(f"/sessions/{session_id}", json={"title": "Ada, the film"})
    assert renamed.json()["title"] == "Ada, the film"

    assert (await api.delete(f"/sessions/{session_id}")).status_code == 204
    assert (await api.get(f"/sessions/{session_id}")).status_code == 404
    assert (await api.get(version["markdown_url"].removeprefix("/api/v1"))).status_code == 404
    gone = await api.post(f"/sessions/{session_id}/messages", json={"content": "hello"})
    assert gone.status_code == 404 and "deleted" in gone.json()["detail"]
    assert gone.json() == {"detail": f"Session {session_id} not found (it may have been deleted).", "code": "session_not_found"}


async def test_projects_crud(api: httpx.AsyncClient) -> None:
    session_id = await new_session(api)
    created = await api.post("/projects", json={"session_id": session_id, "title": "Tesla", "subject": "Nikola Tesla"})
    assert created.status_code == 201
    project = created.json()
    assert (await api.get(f"/projects/{project['id']}")).json()["subject"] == "Nikola Tesla"
    updated = await api.put(f"/projects/{project['id']}", json={"status": "archived", "title": "The Current War"})
    assert updated.json()["status"] == "archived" and updated.json()["title"] == "The Current War"
    assert [p["id"] for p in (await api.get("/projects", params={"session_id": session_id})).json()] == [project["id"]]
    assert (await api.put(f"/projects/{project['id']}", json={"status": "famous"})).status_code == 422
    nothing = await api.put(f"/projects/{project['id']}", json={})
    assert nothing.status_code == 422 and nothing.json()["code"] == "bad_request"
    assert (await api.delete(f"/projects/{project['id']}")).status_code == 204
    missing = await api.get(f"/projects/{project['id']}")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    bad = await api.post("/projects", json={"session_id": "00000000-0000-0000-0000-000000000000", "title": "x", "subject": "y"})
    assert bad.status_code == 404 and bad.json()["code"] == "session_not_found"


async def test_bad_input_gets_clear_errors(server: ServerProcess, api: httpx.AsyncClient) -> None:
    session_id = await new_session(api)
    malformed = await api.get("/sessions/not-a-uuid")
    assert malformed.status_code == 422 and "session_id" in json.dumps(malformed.json()["detail"])
    unknown = await api.get("/sessions/00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404 and "not found" in unknown.json()["detail"]
    assert unknown.json()["code"] == "session_not_found"
    empty = await api.post(f"/sessions/{session_id}/messages", json={"content": "   "})
    assert empty.status_code == 422 and empty.json() == {"detail": "The message is empty.", "code": "empty_message"}
    huge = await api.post(f"/sessions/{session_id}/messages", json={"content": "x" * 501})
    assert huge.status_code == 413 and "limit is 500" in huge.json()["detail"]
    assert huge.json()["code"] == "message_too_long"
    broken = await api.post(f"/sessions/{session_id}/messages", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 422
    wrong_type = await api.post(f"/sessions/{session_id}/messages", json={"content": 42})
    assert wrong_type.status_code == 422
    nul = await api.post(f"/sessions/{session_id}/messages", json={"content": "dark\u0000er"})
    assert nul.status_code == 422 and "control characters" in nul.json()["detail"]
    assert nul.json()["code"] == "bad_text"
    no_run = await api.post(f"/sessions/{session_id}/cancel")
    assert no_run.status_code == 409 and no_run.json() == {"detail": "No run is in progress in this session.", "code": "no_run"}
    not_a_chip = await api.post(f"/sessions/{session_id}/messages", json={"content": "Ada", "direction": ["spooky"]})
    assert not_a_chip.status_code == 422
    spoofed = await api.get("/sessions", headers={"X-User-Id": "bad user!"})
    assert spoofed.status_code == 200  # a client's X-User-Id is not read at all
    assert (await api.get("/sessions", params={"limit": 0})).status_code == 422
    assert (await api.get(f"/sessions/{session_id}/runs/not-a-run")).status_code == 422

    socket, _ = await open_socket(server, session_id)
    for raw, code in [
        ("{oops", "bad_frame"),
        ("[1, 2]", "bad_frame"),
        (json.dumps({"type": "dance"}), "unknown_type"),
        (json.dumps({"type": "message"}), "bad_frame"),
        (json.dumps({"type": "message", "content": ""}), "empty_message"),
        (json.dumps({"type": "message", "content": "y" * 501}), "message_too_long"),
        (json.dumps({"type": "message", "content": "Ada\u0000"}), "bad_text"),
        (json.dumps({"type": "message", "content": "Ada\ud800"}), "bad_text"),
        (json.dumps({"type": "cancel"}), "no_run"),
    ]:
        await socket.send(raw)
        frame = await socket.recv()
        assert frame["control"] == "error" and frame["code"] == code, (raw, frame)
        assert frame["message"]
    await socket.send({"type": "ping"})
    assert (await socket.recv()) == {"control": "pong"}  # the socket stayed open through all of it

    assert (await api.delete(f"/sessions/{session_id}")).status_code == 204
    await socket.send({"type": "message", "content": "hello"})
    frame = await socket.until(lambda f: f.get("control") == "error")
    assert frame[-1]["code"] == "session_not_found"
    await socket.connection.close()

    dead = await connect(f"{server.ws_url}/api/v1/ws/00000000-0000-0000-0000-000000000000")
    frame = json.loads(await dead.recv())
    assert frame["code"] == "session_not_found"
    with pytest.raises(ConnectionClosed) as closed:
        await dead.recv()
    assert closed.value.rcvd.code == 4404
    junk = await connect(f"{server.ws_url}/api/v1/ws/junk")
    assert json.loads(await junk.recv())["code"] == "session_not_found"
    await junk.close()

    health = httpx.get(f"{server.url}/health").json()
    assert health == {"status": "ok", "database": "ok", "redis": "not configured", "model": "offline"}


async def test_openapi_docs_and_info(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/docs")).status_code == 200
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert "/api/v1/sessions/{session_id}/messages/async" in paths
        info = (await client.get("/api/v1/info")).json()
        assert info["offline"] is True and info["models"]["per_agent"]["critic"] == "offline"
        assert info["max_message_chars"] == 500


async def test_a_title_the_person_chose_is_kept_and_a_subject_names_an_untitled_session(api: httpx.AsyncClient) -> None:
    named = (await api.post("/sessions", json={"title": "My Tesla film"})).json()["id"]
    untitled = (await api.post("/sessions", json={})).json()["id"]
    for session_id in (named, untitled):
        done = await api.post(f"/sessions/{session_id}/messages", json={"content": "Can you make a movie about Nikola Tesla?"})
        assert done.status_code == 200 and done.json()["status"] == "completed"
    assert (await api.get(f"/sessions/{named}")).json()["title"] == "My Tesla film"
    assert (await api.get(f"/sessions/{untitled}")).json()["title"] == "Nikola Tesla"
    # A revision keeps the subject and the title.
    revised = await api.post(f"/sessions/{untitled}/messages", json={"content": "make it darker"})
    assert revised.json()["status"] == "completed"
    session = (await api.get(f"/sessions/{untitled}")).json()
    assert (session["title"], session["subject"]) == ("Nikola Tesla", "Nikola Tesla")
    versions = (await api.get(f"/sessions/{untitled}/pitches")).json()[0]["versions"]
    assert [(v["version"], v["revision"], v["notes"]) for v in versions] == [(0, 0, []), (1, 1, ["Make it darker"])]
