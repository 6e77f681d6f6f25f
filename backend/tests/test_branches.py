"""Branches (offline model, in process, SQLite and PostgreSQL, through the real app): a branch
holds exactly what its parent had up to the branch point (rows, ADK events and state, documents)
and goes its own way; the parent never changes; drafts are listed and compared across sessions;
every refusal leaves what is stored as it was."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import func, inspect, select

from agente_films.agents.team import APP_NAME
from agente_films.db.tables import as_utc
from agente_films.db.tables import (
    AgentEvent,
    Answer,
    FilmProject,
    InferentialReasoning,
    LlmUsage,
    Question,
    SessionState,
    StudioSession,
)
from agente_films.runs.manager import NoteAccepted
from agente_films.state_keys import public_state
from agente_films.studio import Studio
from tests.conftest import row_counts
from tests.test_direction import DARKER, documents, logline, start_until
from tests.test_pipeline import mock_wikipedia, run_message

SESSION_ROWS = (FilmProject, Question, Answer, InferentialReasoning, SessionState, AgentEvent, LlmUsage)
Api = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def api(make_api: Api) -> httpx.AsyncClient:
    return await make_api()


def studio_of(client: httpx.AsyncClient) -> Studio:
    return client.studio  # type: ignore[attr-defined]


async def pitched(client: httpx.AsyncClient, *messages: str) -> str:
    """A session with a finished pitch of Ada Lovelace (then a run for each of `messages`)."""
    studio = studio_of(client)
    row = await studio.create_session("local")
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        mock_wikipedia(router)
        for text in ("I'd like a film about Ada Lovelace", *messages):
            await run_message(studio, row.id, text)
    return row.id


def values(row: Any) -> dict[str, Any]:
    return {attr.key: getattr(row, attr.key) for attr in inspect(type(row)).column_attrs}


def order(row: Any) -> tuple:
    return (as_utc(row.created_at), row.id)


async def rows_of(studio: Studio, session_id: str) -> dict[str, list[Any]]:
    """The session's rows per table, in event order."""
    async with studio.sessionmaker() as db:
        found = {
            table.__tablename__: list((await db.scalars(
                select(table).where(table.session_id == session_id).order_by(table.created_at, table.id)
            )).all())
            for table in SESSION_ROWS
        }
        found["studio_sessions"] = [await db.get(StudioSession, session_id)]
    return found


async def adk_session(studio: Studio, session_id: str) -> Any:
    return await studio.session_service.get_session(app_name=APP_NAME, user_id="local", session_id=session_id)


async def fingerprint(studio: Studio, session_id: str) -> dict[str, Any]:
    """Everything stored of one session: every column of its rows, ADK's events and state, its
    documents with their metadata."""
    session = await adk_session(studio, session_id)
    scope = {"app_name": APP_NAME, "user_id": "local", "session_id": session_id}
    metadata = {
        name: [v.custom_metadata for v in await studio.artifact_service.list_artifact_versions(filename=name, **scope)]
        for name in await studio.artifact_service.list_artifact_keys(**scope)
    }
    return {
        "rows": {name: [values(r) for r in rows] for name, rows in (await rows_of(studio, session_id)).items()},
        "events": [e.model_dump(mode="json") for e in session.events],
        "state": dict(session.state),
        "documents": await documents(studio, "local", session_id),
        "document_metadata": metadata,
    }


async def everything(studio: Studio) -> dict[str, Any]:
    """What a refusal must not change: every table's rows, ADK's sessions, the document files."""
    counts = await row_counts(studio)
    async with studio.sessionmaker() as db:
        sessions = (await db.scalars(select(StudioSession.id).where(StudioSession.user_id == "local"))).all()
    adk = await studio.session_service.list_sessions(app_name=APP_NAME, user_id="local")
    root = studio.artifact_service.root_dir
    return {
        "counts": counts,
        "sessions": {sid: await fingerprint(studio, sid) for sid in sessions},
        "adk_sessions": sorted(s.id for s in adk.sessions),
        "files": sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()),
    }


async def snapshot(client: httpx.AsyncClient, session_id: str, version: int) -> dict[str, Any]:
    response = await client.get(f"/sessions/{session_id}/states/{version}")
    assert response.status_code == 200, response.text
    return response.json()


async def branch(client: httpx.AsyncClient, session_id: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/sessions/{session_id}/branches", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def continue_with(client: httpx.AsyncClient, session_id: str, text: str) -> str:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        mock_wikipedia(router)
        run_id, frames = await run_message(studio_of(client), session_id, text)
    assert frames[-1]["type"] == "RUN_FINISHED" and frames[-1]["result"]["status"] == "completed", frames[-1]
    return run_id


async def test_a_branch_at_round_1_holds_exactly_what_the_parent_had_then(api: httpx.AsyncClient) -> None:
    studio = studio_of(api)
    parent = await pitched(api)
    before = await fingerprint(studio, parent)
    parent_rows = await rows_of(studio, parent)
    # Round 1 ends with the critic's feedback: the first snapshot of CRITICAL_FEEDBACK.
    cut = next(s for s in parent_rows["session_states"]
               if s.agent_name == "critic" and "CRITICAL_FEEDBACK" in s.changed_keys)
    [run] = parent_rows["questions"]

    out = await branch(api, parent, from_round=1)

    # The parent is exactly as it was: every column of every row, its ADK events and state, its documents.
    assert await fingerprint(studio, parent) == before
    assert out["parent_id"] == parent and out["title"] == "Ada Lovelace (branch)" and out["status"] == "idle"
    parent_events = before["events"]
    cut_index = next(i for i, e in enumerate(parent_events) if e["id"] == cut.event_id)
    assert out["branch_point"] == {"version": cut.version, "round": 1, "run_id": run.id, "events": cut_index + 1}

    # ADK: the parent's events up to the one that made the cut version (same ids), then the
    # producer's closing event; its state is that snapshot's.
    session = await adk_session(studio, out["id"])
    copied, closing = session.events[:-1], session.events[-1]
    assert [e.id for e in copied] == [e["id"] for e in parent_events[: cut_index + 1]]
    assert [e.model_dump(mode="json")["content"] for e in copied] == [e["content"] for e in parent_events[: cut_index + 1]]
    assert closing.author == "producer" and closing.content is None and not closing.actions.state_delta
    assert public_state(dict(session.state)) == (await snapshot(api, parent, cut.version))["state_value"]
    state = (await api.get(f"/sessions/{out['id']}/state")).json()
    assert state["version"] == cut.version

    # Our rows: exactly the parent's rows written up to the cut event's row, new ids, same content.
    boundary = max(order(e) for e in parent_rows["agent_events"] if e.event_id == cut.event_id)
    branch_rows = await rows_of(studio, out["id"])
    for table in SESSION_ROWS:
        name = table.__tablename__
        expected = [r for r in parent_rows[name] if order(r) <= boundary]
        got = [r for r in branch_rows[name] if not (isinstance(r, AgentEvent) and r.event_type == "branch")]
        assert len(got) == len(expected), name
        assert not {r.id for r in got} & {r.id for r in parent_rows[name]}, name
        for mine, theirs in zip(got, expected, strict=True):
            assert mine.created_at == theirs.created_at, name
            for column in ("agent_name", "answer_text", "reasoning_type", "reasoning_text", "event_type",
                           "event_data", "version", "changed_keys", "subject", "question_text", "prompt_tokens"):
                if hasattr(theirs, column):
                    assert getattr(mine, column) == getattr(theirs, column), (name, column)
    assert [s.version for s in branch_rows["session_states"]] == list(range(1, cut.version + 1))
    # Foreign keys point into the branch.
    [branch_run] = branch_rows["questions"]
    answers = {a.id for a in branch_rows["answers"]}
    assert {r.question_id for t in ("answers", "inferential_reasoning", "llm_usage") for r in branch_rows[t]} == {branch_run.id}
    assert {r.answer_id for r in branch_rows["inferential_reasoning"]} - {None} <= answers
    assert [a.agent_name for a in branch_rows["answers"]] == ["greeter", "researcher", "screenwriter"]
    # The run the cut fell inside is cancelled there, and says where the branch starts.
    assert (branch_run.run_status, branch_run.run_error) == ("cancelled", "The branch starts at round 1 of this run.")
    assert branch_run.metadata_["branched_at"]["round"] == 1
    [project] = branch_rows["film_projects"]
    assert (project.status, project.document) == ("developing", None)
    assert project.title == next(line for line in cut.state_value["PLOT_OUTLINE"].splitlines()
                                 if line.startswith("**Title:**")).removeprefix("**Title:**").strip()

    # Round 1 saved no document; the timeline shows the cut run as cancelled.
    assert (await api.get(f"/sessions/{out['id']}/pitches")).json() == []
    timeline = (await api.get(f"/sessions/{out['id']}/timeline")).json()
    [frames] = [r["frames"] for r in timeline["runs"]]
    assert frames[-1]["type"] == "RUN_FINISHED" and frames[-1]["result"]["status"] == "cancelled"
    assert frames[-1]["result"]["branchedAt"] == {"version": cut.version, "round": 1}
    # The sessions list, the branch list and the branch itself carry the branch point.
    listed = {s["id"]: s for s in (await api.get("/sessions")).json()["items"]}
    assert listed[out["id"]]["parent_id"] == parent and listed[out["id"]]["branch_point"] == out["branch_point"]
    assert listed[parent]["parent_id"] is None
    assert [s["id"] for s in (await api.get(f"/sessions/{parent}/branches")).json()] == [out["id"]]
    assert (await api.get(f"/sessions/{out['id']}")).json()["branch_point"] == out["branch_point"]

    # The branch goes its own way: a note makes a complete, darker pitch; the parent's stays.
    await continue_with(api, out["id"], "make it darker")
    [(filename, [document])] = (await documents(studio, "local", out["id"])).items()
    [(parent_file, [parent_document])] = before["documents"].items()
    assert filename == parent_file and DARKER in logline(document) and DARKER not in logline(parent_document)
    [note] = (await api.get(f"/sessions/{out['id']}/state")).json()["state"]["producer_notes"]
    assert (note["text"], note["status"]) == ("Make it darker", "addressed")
    assert await fingerprint(studio, parent) == before


async def test_a_branch_from_the_last_version_copies_every_document_version(api: httpx.AsyncClient) -> None:
    studio = studio_of(api)
    parent = await pitched(api, "make it darker")
    before = await fingerprint(studio, parent)
    latest = (await api.get(f"/sessions/{parent}/state")).json()["version"]

    out = await branch(api, parent, from_version=latest, title="Ada, darker")
    assert (out["title"], out["branch_point"]["version"], out["branch_point"]["round"]) == ("Ada, darker", latest, None)
    assert await fingerprint(studio, parent) == before
    mine = await fingerprint(studio, out["id"])
    # Both document versions, same bytes and same metadata (revision, notes), same numbers.
    assert mine["documents"] == before["documents"] and mine["document_metadata"] == before["document_metadata"]
    pitches = (await api.get(f"/sessions/{out['id']}/pitches")).json()
    [versions] = [[(v["version"], v["revision"], v["notes"]) for v in p["versions"]] for p in pitches]
    assert versions == [(0, 0, []), (1, 1, ["Make it darker"])]
    # Saved by the branch's own copies of the runs.
    runs = [q["question"]["id"] for q in (await api.get(f"/sessions/{out['id']}/history")).json()["items"]]
    assert [v["run_id"] for v in pitches[0]["versions"]] == runs
    assert public_state(mine["state"]) == (await snapshot(api, parent, latest))["state_value"]
    # The last version is the document's save: the run went on after it (the file writer's
    # words), so in the branch that run is cancelled at that version; the first one is complete.
    statuses = [(q["question"]["run_status"], q["question"]["run_error"])
                for q in (await api.get(f"/sessions/{out['id']}/history")).json()["items"]]
    assert statuses == [("completed", None), ("cancelled", f"The branch starts at state version {latest} of this run.")]


async def test_branches_of_branches_drafts_and_comparisons(api: httpx.AsyncClient) -> None:
    studio = studio_of(api)
    parent = await pitched(api)
    first = await branch(api, parent, from_round=1)
    await continue_with(api, first["id"], "make it darker")

    # Drafts: the outline versions, with who wrote them, their run and round and title.
    drafts = (await api.get(f"/sessions/{parent}/drafts")).json()
    assert [(d["number"], d["agent"], d["round"]) for d in drafts] == [(1, "screenwriter", 1), (2, "screenwriter", 2)]
    [run] = [q["question"]["id"] for q in (await api.get(f"/sessions/{parent}/history")).json()["items"]]
    assert {d["run_id"] for d in drafts} == {run} and all(d["title"] for d in drafts)
    mine = (await api.get(f"/sessions/{first['id']}/drafts")).json()
    assert [d["version"] for d in mine[:1]] == [drafts[0]["version"]] and len(mine) >= 2
    assert mine[0]["run_id"] != run  # the branch's copy of the run

    # Download one: the outline at that version, as Markdown.
    response = await api.get(drafts[0]["download_url"].removeprefix("/api/v1"))
    outline = (await snapshot(api, parent, drafts[0]["version"]))["state_value"]["PLOT_OUTLINE"]
    assert response.status_code == 200 and response.text == outline
    assert response.headers["content-type"].startswith("text/markdown")
    assert response.headers["content-disposition"] == f'attachment; filename="outline-v{drafts[0]["version"]}.md"'
    # Version 1 is the new subject's reset (an empty outline), version 2 the research: no drafts.
    assert [(await api.get(f"/sessions/{parent}/drafts/{v}")).status_code for v in (1, 2)] == [404, 404]
    assert (await api.get(f"/sessions/{parent}/drafts/99999")).status_code == 404

    # Compare the parent's first draft with the branch's last, and the two first documents.
    last = mine[-1]
    response = await api.get(f"/sessions/{parent}/compare",
                             params={"a": f"draft:{parent}:{drafts[0]['version']}", "b": f"draft:{first['id']}:{last['version']}"})
    assert response.status_code == 200, response.text
    a, b = response.json()["a"], response.json()["b"]
    assert (a["session_id"], a["kind"], a["text"]) == (parent, "draft", outline)
    assert a["label"] == f"Draft 1 · round 1 (v{drafts[0]['version']})"
    assert b["text"] == (await snapshot(api, first["id"], last["version"]))["state_value"]["PLOT_OUTLINE"]
    assert b["session_id"] == first["id"] and b["download_url"] == last["download_url"] and a["text"] != b["text"]
    [(filename, [parent_doc])] = (await documents(studio, "local", parent)).items()
    response = await api.get(f"/sessions/{first['id']}/compare",
                             params={"a": f"pitch:{parent}:{filename}:0", "b": f"pitch:{first['id']}:{filename}:0"})
    assert response.status_code == 200, response.text
    a, b = response.json()["a"], response.json()["b"]
    assert (a["label"], a["text"]) == (f"{filename} version 0", parent_doc) and DARKER in b["text"]
    assert a["download_url"] == f"/api/v1/sessions/{parent}/pitches/{filename}?version=0&format=markdown"

    # A branch of the branch, from a version the branch made itself.
    before_first = await fingerprint(studio, first["id"])
    second = await branch(api, first["id"], from_version=last["version"])
    assert second["parent_id"] == first["id"] and second["title"] == "Ada Lovelace (branch) (branch)"
    assert await fingerprint(studio, first["id"]) == before_first
    state = public_state(dict((await adk_session(studio, second["id"])).state))
    assert state == (await snapshot(api, first["id"], last["version"]))["state_value"]
    assert [s["id"] for s in (await api.get(f"/sessions/{parent}/branches")).json()] == [first["id"]]
    assert [s["id"] for s in (await api.get(f"/sessions/{first['id']}/branches")).json()] == [second["id"]]

    # Branches outlive their parent.
    assert (await api.delete(f"/sessions/{parent}")).status_code == 204
    assert (await api.get(f"/sessions/{first['id']}")).json()["parent_id"] is None
    assert (await api.get(f"/sessions/{second['id']}")).json()["parent_id"] == first["id"]
    response = await api.get(f"/sessions/{first['id']}/compare",
                             params={"a": f"draft:{parent}:3", "b": f"draft:{first['id']}:3"})
    assert response.status_code == 404 and "not found" in response.json()["detail"]


async def test_notes_said_during_a_run_follow_the_branch(make_api: Api) -> None:
    """Note rows get new ids in a branch; the producer's notes in its ADK state and snapshots name
    those ids, and each note row's status is the one the state had at the cut."""
    api = await make_api(offline_chunk_delay_ms=12)
    studio = studio_of(api)
    row = await studio.create_session("local")
    run = await start_until(studio, row.id, "Ada Lovelace", "researcher")
    said = await studio.runs.say(session_id=row.id, user_id="local", text="Act II drags")
    assert isinstance(said, NoteAccepted)
    await run.done.wait()
    latest = (await api.get(f"/sessions/{row.id}/state")).json()["version"]

    whole = await branch(api, row.id, from_version=latest)
    rows = await rows_of(studio, whole["id"])
    [note] = [q for q in rows["questions"] if q.kind == "note"]
    [branch_run] = [q for q in rows["questions"] if q.kind != "note"]
    assert note.id != said.note_id and note.metadata_["run_id"] == branch_run.id
    state = dict((await adk_session(studio, whole["id"])).state)
    assert [(n["id"], n["status"]) for n in state["producer_notes"]] == [(note.id, "addressed")]
    assert note.note_status == "addressed" and note.metadata_["round"] == 2
    assert rows["session_states"][-1].state_value["producer_notes"][0]["id"] == note.id
    assert (await snapshot(api, row.id, latest))["state_value"]["producer_notes"][0]["id"] == said.note_id

    # At the end of round 1 the note was said but not taken yet: pending in the branch, for its
    # next run (as a note kept from a cancelled run).
    early = await branch(api, row.id, from_round=1)
    [early_note] = [q for q in (await rows_of(studio, early["id"]))["questions"] if q.kind == "note"]
    assert early_note.note_status == "pending" and "round" not in early_note.metadata_
    assert not dict((await adk_session(studio, early["id"])).state)["producer_notes"]


async def test_refusals_change_nothing(make_api: Api) -> None:
    api = await make_api()
    studio = studio_of(api)
    parent = await pitched(api)
    gone = (await api.post("/sessions", json={})).json()["id"]
    assert (await api.delete(f"/sessions/{gone}")).status_code == 204
    [run] = [q["question"]["id"] for q in (await api.get(f"/sessions/{parent}/history")).json()["items"]]
    someone_elses = (await studio.create_session("someone-else")).id
    before = await everything(studio)

    async def refused(status: int, body: Any, *, session: str = parent, headers: dict | None = None) -> str:
        response = await api.post(f"/sessions/{session}/branches", json=body, headers=headers or {})
        assert response.status_code == status, (body, response.text)
        return str(response.json()["detail"])

    assert "exactly one" in await refused(422, {"from_version": 3, "from_round": 1})
    assert "exactly one" in await refused(422, {})
    assert "exactly one" in await refused(422, {"run_id": run})
    assert "run_id names the run of from_round" in await refused(422, {"from_version": 3, "run_id": run})
    await refused(422, {"from_version": 0})
    await refused(422, {"from_version": "three"})
    assert "not found" in await refused(404, {"from_version": 9999})
    assert "rounds 1, 2" in await refused(422, {"from_round": 3})
    assert "rounds 1, 2" in await refused(422, {"from_round": 3, "run_id": run})
    assert "not found" in await refused(404, {"from_round": 1, "run_id": "no-such-run"})
    assert "control characters" in await refused(422, {"from_round": 1, "title": "a\x00b"})
    assert "not found" in await refused(404, {"from_round": 1}, session=gone)
    assert "not found" in await refused(404, {"from_round": 1}, session=someone_elses)
    await refused(422, {"from_round": 1}, session="not-a-uuid")

    async def compare(status: int, a: str, b: str, **kwargs: Any) -> str:
        response = await api.get(f"/sessions/{parent}/compare", params={"a": a, "b": b}, **kwargs)
        assert response.status_code == status, (a, b, response.text)
        return str(response.json()["detail"])

    good = f"draft:{parent}:3"
    assert "draft:<session_id>:<version>" in await compare(422, "draft:3", good)
    assert "pitch:<session_id>:<filename>:<version>" in await compare(422, good, f"pitch:{parent}:x.md")
    assert "not a session id" in await compare(422, "draft:abc:3", good)
    assert "not a version" in await compare(422, good, f"draft:{parent}:-1")
    assert "not a version" in await compare(422, good, f"draft:{parent}:99999999999")
    assert "not an outline draft" in await compare(404, good, f"draft:{parent}:2")
    assert "No version 7" in await compare(404, good, f"pitch:{parent}:ada.md:7")
    assert "No version 0" in await compare(404, good, f"pitch:{parent}:..:0")
    assert "not found" in await compare(404, good, f"draft:{gone}:3")
    assert "not found" in await compare(404, good, f"draft:{someone_elses}:1")
    assert (await api.get(f"/sessions/{parent}/compare", params={"a": good})).status_code == 422
    assert (await api.get(f"/sessions/{parent}/drafts/0")).status_code == 422

    assert await everything(studio) == before


async def test_over_the_size_cap_is_413_and_changes_nothing(make_api: Api) -> None:
    api = await make_api(max_branch_events=3)
    studio = studio_of(api)
    parent = await pitched(api)
    before = await everything(studio)
    response = await api.post(f"/sessions/{parent}/branches", json={"from_round": 1})
    assert response.status_code == 413 and "at most 3" in response.json()["detail"]
    assert await everything(studio) == before
    # The greeter's brief is the third event: that branch fits.
    out = await branch(api, parent, from_version=1)
    assert out["branch_point"]["events"] == 3


async def test_a_run_in_progress_is_409_and_nothing_is_branched(make_api: Api) -> None:
    api = await make_api(offline_chunk_delay_ms=12)
    studio = studio_of(api)
    parent = await pitched(api)
    before = await everything(studio)
    run = await studio.runs.start(session_id=parent, user_id="local", text="make it darker")
    response = await api.post(f"/sessions/{parent}/branches", json={"from_round": 1})
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "run_in_progress" and response.json()["run_id"] == run.run_id
    adk = await studio.session_service.list_sessions(app_name=APP_NAME, user_id="local")
    assert sorted(s.id for s in adk.sessions) == before["adk_sessions"]
    async with studio.sessionmaker() as db:
        assert int(await db.scalar(select(func.count()).select_from(StudioSession))) == 1
    await asyncio.wait_for(run.done.wait(), 60)
    assert run.status == "completed"


async def test_a_branch_whose_rows_the_database_refuses_leaves_nothing(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once ADK's session and the documents are copied, a refused row copy takes them back."""
    from sqlalchemy.exc import IntegrityError

    from agente_films import branching
    from agente_films.branching import BranchRequest

    studio = studio_of(api)
    parent = await pitched(api)
    latest = (await api.get(f"/sessions/{parent}/state")).json()["version"]
    before = await everything(studio)
    plan_copy = branching.plan_copy

    def twice_a_version(*args: Any) -> branching.Copy:
        plan = plan_copy(*args)
        [last] = [r for r in plan.rest if isinstance(r, SessionState) and r.version == latest]
        plan.rest.append(SessionState(**{**values(last), "id": "duplicate-version"}))
        return plan

    monkeypatch.setattr(branching, "plan_copy", twice_a_version)
    async with studio.sessionmaker() as db:
        row = await db.get(StudioSession, parent)
    with pytest.raises(IntegrityError):
        await branching.branch_session(studio, row, BranchRequest(from_version=latest))
    assert await everything(studio) == before


async def test_an_edit_by_hand_is_a_draft_and_a_branch_after_it_keeps_it_complete(api: httpx.AsyncClient) -> None:
    parent = await pitched(api)
    state = (await api.get(f"/sessions/{parent}/state")).json()
    outline = state["state"]["PLOT_OUTLINE"]
    old = next(line for line in outline.splitlines() if line.startswith("**Logline:**"))
    edited = outline.replace(old, "**Logline:** A countess writes the first program.")
    response = await api.patch(f"/sessions/{parent}/state",
                               json={"expected_version": state["version"], "changes": {"PLOT_OUTLINE": edited}})
    assert response.status_code == 200, response.text
    version = response.json()["version"]

    *_, draft = (await api.get(f"/sessions/{parent}/drafts")).json()
    assert (draft["version"], draft["agent"], draft["round"]) == (version, "producer", None)
    assert draft["label"] == f"Draft 3 · edited by hand (v{version})"
    assert (await api.get(draft["download_url"].removeprefix("/api/v1"))).text == edited

    # The edit is a run of one event: a branch at its version has it whole, and complete.
    out = await branch(api, parent, from_version=version)
    assert out["status"] == "completed"
    items = (await api.get(f"/sessions/{out['id']}/history")).json()["items"]
    assert [(i["question"]["kind"], i["question"]["run_status"]) for i in items] == [
        ("message", "completed"), ("edit", "completed")
    ]
    assert (await api.get(f"/sessions/{out['id']}/state")).json()["state"]["PLOT_OUTLINE"] == edited
