"""A session survives its server: stop it, start a new one on the same database, and go on."""

from __future__ import annotations

import asyncio
import json
import signal
import time

import httpx

from tests.conftest import ServerProcess, agui_verify


async def _socket_replay(ws_url: str, session_id: str) -> list[dict]:
    """Everything a client that connects now is sent, until the end of a run (AG-UI events only)."""
    from websockets.asyncio.client import connect

    frames: list[dict] = []
    async with connect(f"{ws_url}/api/v1/ws/{session_id}") as socket:
        async with asyncio.timeout(30):
            while True:
                message = json.loads(await socket.recv())
                if "type" in message:
                    frames.append(message)
                    if message["type"] in ("RUN_FINISHED", "RUN_ERROR"):
                        return frames


def wait_for_run(api: httpx.Client, session_id: str, run_id: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = api.get(f"/sessions/{session_id}/runs/{run_id}").json()
        if run["status"] != "running":
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} still running")


async def test_history_and_state_survive_a_restart_and_the_session_continues(database_url: str, start_server) -> None:  # noqa: ANN001
    first: ServerProcess = start_server(database_url)
    with httpx.Client(base_url=f"{first.url}/api/v1", timeout=60) as api:
        session_id = api.post("/sessions").json()["id"]
        assert api.post(f"/sessions/{session_id}/messages", json={"content": "Ada Lovelace"}).json()["status"] == "completed"
        history = api.get(f"/sessions/{session_id}/history").json()
        state = api.get(f"/sessions/{session_id}/state").json()
        pitches = api.get(f"/sessions/{session_id}/pitches").json()
    first.stop()

    second: ServerProcess = start_server(database_url, port=first.port)
    with httpx.Client(base_url=f"{second.url}/api/v1", timeout=60) as api:
        assert api.get(f"/sessions/{session_id}/history").json() == history
        assert api.get(f"/sessions/{session_id}/state").json() == state
        assert api.get(f"/sessions/{session_id}/pitches").json() == pitches
        # The conversation continues in the same ADK session: the greeter sees the earlier turns
        # and a new subject starts a second pitch beside the first.
        reply = api.post(f"/sessions/{session_id}/messages", json={"content": "Nikola Tesla"}).json()
        assert reply["status"] == "completed" and reply["answers"][-1]["agent_name"] == "file_writer"
        after = api.get(f"/sessions/{session_id}/history").json()["items"]
        assert [i["question"]["question_text"] for i in after] == ["Ada Lovelace", "Nikola Tesla"]
        assert api.get(f"/sessions/{session_id}/state").json()["version"] > state["version"]
        assert len(api.get(f"/sessions/{session_id}/pitches").json()) == 2


async def test_a_run_cut_off_by_a_crash_is_marked_interrupted_and_the_session_stays_usable(database_url: str, start_server) -> None:  # noqa: ANN001
    first: ServerProcess = start_server(database_url, OFFLINE_CHUNK_DELAY_MS="20")
    with httpx.Client(base_url=f"{first.url}/api/v1", timeout=60) as api:
        session_id = api.post("/sessions").json()["id"]
        run_id = api.post(f"/sessions/{session_id}/messages/async", json={"content": "Marie Curie"}).json()["run_id"]
        deadline = time.monotonic() + 30
        while not [a for a in api.get(f"/sessions/{session_id}/runs/{run_id}").json()["answers"] if a["agent_name"] == "researcher"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        stored_before = api.get(f"/sessions/{session_id}/history").json()
    first.stop(signal.SIGKILL)

    second: ServerProcess = start_server(database_url, port=first.port)
    with httpx.Client(base_url=f"{second.url}/api/v1", timeout=60) as api:
        run = api.get(f"/sessions/{session_id}/runs/{run_id}").json()
        assert run["status"] == "interrupted" and "stopped before it finished" in run["error"]
        assert api.get(f"/sessions/{session_id}").json()["status"] == "interrupted"
        assert api.get(f"/sessions/{session_id}/history").json()["items"][0]["question"]["resumable"] is True
        # Nothing stored before the kill is lost.
        answers_before = {a["id"] for a in stored_before["items"][0]["answers"]}
        answers_after = {a["id"] for a in api.get(f"/sessions/{session_id}/history").json()["items"][0]["answers"]}
        assert answers_before <= answers_after
        # Resume continues the same run from ADK's checkpoints and finishes the pitch.
        resumed = api.post(f"/sessions/{session_id}/runs/{run_id}/resume")
        assert resumed.status_code == 202 and resumed.json()["run_id"] == run_id
        finished = wait_for_run(api, session_id, run_id)
        assert finished["status"] == "completed" and finished["answers"][-1]["agent_name"] == "file_writer"
        pitches = api.get(f"/sessions/{session_id}/pitches").json()
        assert len(pitches) == 1 and len(pitches[0]["versions"]) == 1, "the document was saved once"
        # Exactly what an uninterrupted run of the same message stores.
        normal = api.post("/sessions").json()["id"]
        assert api.post(f"/sessions/{normal}/messages", json={"content": "Marie Curie"}).json()["status"] == "completed"
        normal_run = api.get(f"/sessions/{normal}/history").json()["items"][0]

        def agents(items: list) -> list[str]:
            return sorted(a["agent_name"] for a in items)

        assert agents(finished["answers"]) == agents(normal_run["answers"])
        states = [v for v in api.get(f"/sessions/{session_id}/states").json() if v["question_id"] == run_id]
        assert len(states) == len(api.get(f"/sessions/{normal}/states").json())
        # A client that follows the session now reads the run once: one start, one end.
        frames = await _socket_replay(second.ws_url, session_id)
        assert [f["type"] for f in frames if f["type"].startswith("RUN_")] == ["RUN_STARTED", "RUN_FINISHED"]
        assert frames[0]["runId"] == run_id and frames[0]["resumed"] is True
        assert agui_verify(frames)["ok"]
        again = api.post(f"/sessions/{session_id}/runs/{run_id}/resume")
        assert again.status_code == 409 and "completed" in again.json()["detail"]
        # The session takes new messages as before.
        retry = api.post(f"/sessions/{session_id}/messages/async", json={"content": "hello"}).json()
        assert wait_for_run(api, session_id, retry["run_id"])["status"] == "completed"
