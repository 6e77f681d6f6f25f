"""The producer's hand on the pitch (offline model, in process, SQLite and PostgreSQL): regenerate
one stage, edit the outline by hand and have the team keep the edit, undo in place with an audit,
and every refusal leaves what is stored as it was."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from agente_films.api.app import create_app
from agente_films.db.repositories import QuestionRepository, StateRepository
from agente_films.edits import section_text
from agente_films.studio import Studio
from tests.conftest import agui_verify, attach_studio, make_settings, row_counts
from tests.test_direction import DARKER, documents, logline, section
from tests.test_pipeline import WIKI, mock_wikipedia, run_message

MY_LOGLINE = "A countess who writes the first program fights to be believed before her engine exists."


@pytest.fixture
async def api(database_url: str, tmp_path: Path):
    """The real app (its routes, dependencies and error mapping) in process, with its studio."""
    settings = make_settings(database_url, tmp_path, wikipedia_base_url=WIKI)
    app = create_app(settings)
    studio = await Studio.open(settings)
    attach_studio(app, studio)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test/api/v1") as client:
        client.studio = studio  # type: ignore[attr-defined]
        yield client
    await studio.close()


async def pitched(client: httpx.AsyncClient) -> tuple[Studio, str]:
    """A session with a finished first pitch of Ada Lovelace."""
    studio: Studio = client.studio  # type: ignore[attr-defined]
    row = await studio.create_session("local")
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        mock_wikipedia(router)
        await run_message(studio, row.id, "I'd like a film about Ada Lovelace")
    return studio, row.id


async def wait_run(studio: Studio, session_id: str, run_id: str) -> list[dict[str, Any]]:
    frames = []
    run = studio.runs.find(run_id)
    if run is not None:  # an edit or undo is over when its request answers
        await run.done.wait()
    async for frame in studio.bus.subscribe(session_id, 0, None):
        if frame.get("runId") == run_id:
            frames.append(frame)
            if frame["type"] in ("RUN_FINISHED", "RUN_ERROR"):
                break
    return frames


async def state_of(client: httpx.AsyncClient, session_id: str) -> dict[str, Any]:
    response = await client.get(f"/sessions/{session_id}/state")
    assert response.status_code == 200
    return response.json()


def with_logline(outline: str, text: str) -> str:
    old = section_text(outline, "Logline")
    return outline.replace(f"**Logline:** {old}", f"**Logline:** {text}")


async def test_regenerating_casting_changes_only_the_casting_report_and_saves_the_next_version(api) -> None:
    studio, session_id = await pitched(api)
    before = (await state_of(api, session_id))["state"]
    [(filename, docs_before)] = (await documents(studio, "local", session_id)).items()

    response = await api.post(f"/sessions/{session_id}/regenerate", json={"stage": "casting"})
    assert response.status_code == 202, response.text
    frames = await wait_run(studio, session_id, response.json()["run_id"])

    started = frames[0]
    assert (started["type"], started["kind"], started["stage"]) == ("RUN_STARTED", "regenerate", "casting")
    assert frames[-1]["type"] == "RUN_FINISHED"
    worked = {f["agent"] for f in frames if f["type"] == "STEP_FINISHED" and not f.get("kept")}
    kept = {f["agent"] for f in frames if f["type"] == "STEP_FINISHED" and f.get("kept")}
    assert {"writers_room", "box_office_researcher"} <= kept
    assert {"casting_agent", "file_writer"} <= worked
    assert not {"researcher", "screenwriter", "critic"} & (worked | kept)  # the room never met
    assert not [f for f in frames if f["type"] == "CUSTOM" and f["name"] == "usage" and f["value"]["agent"] == "greeter"]

    after = (await state_of(api, session_id))["state"]
    assert after["casting_report"] != before["casting_report"] and "Fresh take for revision 1" in after["casting_report"]
    for key in ("PLOT_OUTLINE", "box_office_report", "research", "PROMPT", "CRITICAL_FEEDBACK"):
        assert after[key] == before[key], key
    assert after["revision"] == 1 and after["regenerate"] == {"stage": "casting", "revision": 1}

    docs = (await documents(studio, "local", session_id))[filename]
    assert len(docs) == len(docs_before) + 1
    assert section(docs[-1], "Casting report") != section(docs[-2], "Casting report")
    for name in ("Logline", "Outline", "Box-office report", "Sources"):
        assert section(docs[-1], name) == section(docs[-2], name), name

    # A second regeneration of casting is yet another take, the next document version.
    response = await api.post(f"/sessions/{session_id}/regenerate", json={"stage": "casting"})
    await wait_run(studio, session_id, response.json()["run_id"])
    again = (await state_of(api, session_id))["state"]
    assert again["casting_report"] not in (before["casting_report"], after["casting_report"])
    assert len((await documents(studio, "local", session_id))[filename]) == len(docs_before) + 2


async def test_an_edit_by_hand_is_stored_as_the_producers_and_a_revision_keeps_it(api) -> None:
    studio, session_id = await pitched(api)
    current = await state_of(api, session_id)
    outline = current["state"]["PLOT_OUTLINE"]
    edited = with_logline(outline, MY_LOGLINE)

    response = await api.patch(
        f"/sessions/{session_id}/state",
        json={"expected_version": current["version"], "changes": {"PLOT_OUTLINE": edited}},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["changed"] == ["Logline"] and body["version"] == current["version"] + 1
    assert body["state"]["PLOT_OUTLINE"] == edited
    assert body["state"]["producer_edits"]["sections"] == ["Logline"]

    async with studio.sessionmaker() as db:
        question = await QuestionRepository(db).get(body["edit_id"], session_id)
        snapshot = await StateRepository(db).get(session_id, body["version"])
    assert question.kind == "edit" and question.run_status == "completed"
    assert snapshot.agent_name == "producer" and snapshot.question_id == body["edit_id"]
    assert "PLOT_OUTLINE" in snapshot.changed_keys and snapshot.state_value["PLOT_OUTLINE"] == edited

    # The edit is a run in the timeline, with the state it made.
    timeline = (await api.get(f"/sessions/{session_id}/timeline")).json()
    edit_run = next(r for r in timeline["runs"] if r["runId"] == body["edit_id"])
    kinds = [f["type"] for f in edit_run["frames"]]
    assert kinds[0] == "RUN_STARTED" and edit_run["frames"][0]["kind"] == "edit" and kinds[-1] == "RUN_FINISHED"
    assert "STATE_DELTA" in kinds
    # Live, the same run went out on the session's stream, as a valid AG-UI run.
    live = await wait_run(studio, session_id, body["edit_id"])
    # (a live run also opens with the state it starts from, for clients that join late)
    assert [f["type"] for f in live if f["type"] != "STATE_SNAPSHOT"] == [k for k in kinds if k != "STATE_SNAPSHOT"]
    assert agui_verify(live)["ok"], agui_verify(live)

    # A revision after the edit: the producer's logline stays; the note still gets its way.
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        mock_wikipedia(router)
        await run_message(studio, session_id, "Act II drags")
    state = (await state_of(api, session_id))["state"]
    assert section_text(state["PLOT_OUTLINE"], "Logline") == MY_LOGLINE
    assert "(rewritten" in state["PLOT_OUTLINE"]
    [note] = [n for n in state["producer_notes"] if n["revision"] == 1]
    assert note["status"] == "addressed"
    [(_, docs)] = (await documents(studio, "local", session_id)).items()
    assert logline(docs[-1]) == MY_LOGLINE

    # A tone note after the edit joins the producer's logline instead of replacing it.
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        mock_wikipedia(router)
        await run_message(studio, session_id, "make it darker")
    state = (await state_of(api, session_id))["state"]
    line = section_text(state["PLOT_OUTLINE"], "Logline")
    assert line.startswith(MY_LOGLINE.rstrip(".")) and DARKER in line


async def test_a_stale_or_forbidden_edit_is_refused_and_nothing_stored_changes(api) -> None:
    studio, session_id = await pitched(api)
    current = await state_of(api, session_id)
    edited = with_logline(current["state"]["PLOT_OUTLINE"], MY_LOGLINE)
    stored = await row_counts(studio)
    url = f"/sessions/{session_id}/state"

    stale = await api.patch(url, json={"expected_version": current["version"] - 1, "changes": {"PLOT_OUTLINE": edited}})
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_version" and stale.json()["current_version"] == current["version"]

    cases = [
        ({"expected_version": current["version"], "changes": {"research": []}}, 422, "research"),
        ({"expected_version": current["version"], "changes": {"app:secret": "x"}}, 422, "app:secret"),
        ({"expected_version": current["version"], "changes": {"temp:x": "x"}}, 422, "temp:x"),
        ({"expected_version": current["version"], "changes": {"PLOT_OUTLINE": "just some words"}}, 422, "Title"),
        ({"expected_version": current["version"], "changes": {"PLOT_OUTLINE": 42}}, 422, "text"),
        ({"expected_version": current["version"], "changes": {"direction": "dark\x00er"}}, 422, "control"),
        ({"expected_version": current["version"], "changes": {"direction": {"nested": ["x"]}}}, 422, "text"),
        ({"expected_version": current["version"], "changes": {}}, 422, None),
        ({"expected_version": 2**63, "changes": {"direction": "x"}}, 422, None),
        ({"changes": {"direction": "x"}}, 422, None),
    ]
    for body, code, words in cases:
        response = await api.patch(url, json=body)
        assert response.status_code == code, (body, response.text)
        if words:
            assert words in response.json()["detail"], response.json()
    assert (await api.post(f"/sessions/{session_id}/regenerate", json={"stage": "lighting"})).status_code == 422
    for version in (2**31, 2**63, 0):  # past what the database's integer holds: 422, never a 500
        assert (await api.get(f"/sessions/{session_id}/states/{version}")).status_code == 422
    missing = "00000000-0000-4000-8000-000000000000"
    assert (await api.patch(f"/sessions/{missing}/state", json={"expected_version": 1, "changes": {"direction": "x"}})).status_code == 404
    assert (await api.post(f"/sessions/{missing}/undo")).status_code == 404
    assert await row_counts(studio) == stored
    assert (await state_of(api, session_id)) == current


async def test_nothing_to_regenerate_or_undo_before_a_pitch(api) -> None:
    studio: Studio = api.studio  # type: ignore[attr-defined]
    row = await studio.create_session("local")
    response = await api.post(f"/sessions/{row.id}/regenerate", json={"stage": "document"})
    assert response.status_code == 409 and response.json()["code"] == "nothing_to_regenerate"
    response = await api.post(f"/sessions/{row.id}/undo")
    assert response.status_code == 409 and response.json()["code"] == "nothing_to_undo"
    response = await api.patch(f"/sessions/{row.id}/state", json={"expected_version": 0, "changes": {"direction": "x"}})
    assert response.status_code == 422 and "no pitch" in response.json()["detail"]


async def test_edits_and_regenerations_during_a_run_are_refused_with_409(api) -> None:
    studio, session_id = await pitched(api)
    current = await state_of(api, session_id)
    run = await studio.runs.start(session_id=session_id, user_id="local", text="make it funnier")
    try:
        edit = await api.patch(
            f"/sessions/{session_id}/state",
            json={"expected_version": current["version"], "changes": {"direction": "for teenagers"}},
        )
        regenerate = await api.post(f"/sessions/{session_id}/regenerate", json={"stage": "casting"})
        undo = await api.post(f"/sessions/{session_id}/undo")
    finally:
        await run.done.wait()
    for response in (edit, regenerate, undo):
        assert response.status_code == 409 and response.json()["code"] == "run_in_progress", response.text
    assert (await state_of(api, session_id))["state"]["direction"] == ""


async def test_undo_restores_the_previous_outline_in_place_and_keeps_the_audit(api) -> None:
    studio, session_id = await pitched(api)
    first = (await state_of(api, session_id))["state"]
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        mock_wikipedia(router)
        revision, _ = await run_message(studio, session_id, "make it darker")
    darker = await state_of(api, session_id)
    assert DARKER in darker["state"]["PLOT_OUTLINE"]
    stored = await row_counts(studio)
    [(filename, docs)] = (await documents(studio, "local", session_id)).items()

    response = await api.post(f"/sessions/{session_id}/undo")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["undid"], body["undid_kind"]) == (revision, "message")
    assert body["version"] == darker["version"] + 1
    now = (await state_of(api, session_id))["state"]
    assert now["PLOT_OUTLINE"] == first["PLOT_OUTLINE"] and DARKER not in now["PLOT_OUTLINE"]
    assert now["producer_notes"] == first["producer_notes"]
    assert now["revision"] == 1  # the counter goes on: the next revision saves a new version number

    # Nothing deleted: every row is still there, plus the undo's own question, event and snapshot.
    after = await row_counts(studio)
    for table, count in stored.items():
        assert after[table] >= count, table
    assert after["questions"] == stored["questions"] + 1
    assert after["session_states"] == stored["session_states"] + 1
    async with studio.sessionmaker() as db:
        undone = await QuestionRepository(db).get(revision, session_id)
        undo_row = await QuestionRepository(db).get(body["undo_id"], session_id)
        darker_snapshot = await StateRepository(db).get(session_id, darker["version"])
    assert undone.metadata_["undone_by"] == body["undo_id"] and undone.run_status == "completed"
    assert undo_row.kind == "undo" and undo_row.metadata_["undid"] == revision
    assert DARKER in darker_snapshot.state_value["PLOT_OUTLINE"]  # snapshot versions stay
    assert len((await documents(studio, "local", session_id))[filename]) == len(docs)  # documents stay
    versions = (await api.get(f"/sessions/{session_id}/pitches")).json()[0]["versions"]
    assert [(v["revision"], v["undone"]) for v in versions] == [(0, False), (1, True)]
    assert versions[1]["run_id"] == revision

    # The first pitch cannot be undone; nor can the undone revision twice.
    again = await api.post(f"/sessions/{session_id}/undo")
    assert again.status_code == 409 and again.json()["code"] == "nothing_to_undo"


async def test_undo_takes_back_an_edit_then_the_regeneration_before_it(api) -> None:
    studio, session_id = await pitched(api)
    first = await state_of(api, session_id)
    response = await api.post(f"/sessions/{session_id}/regenerate", json={"stage": "box_office"})
    await wait_run(studio, session_id, response.json()["run_id"])
    regenerated = await state_of(api, session_id)
    assert regenerated["state"]["box_office_report"] != first["state"]["box_office_report"]
    edited = with_logline(regenerated["state"]["PLOT_OUTLINE"], MY_LOGLINE)
    edit = await api.patch(
        f"/sessions/{session_id}/state",
        json={"expected_version": regenerated["version"], "changes": {"PLOT_OUTLINE": edited, "direction": "for teenagers"}},
    )
    assert edit.json()["changed"] == ["Logline", "direction"]

    undo_edit = (await api.post(f"/sessions/{session_id}/undo")).json()
    assert undo_edit["undid_kind"] == "edit"
    state = (await state_of(api, session_id))["state"]
    assert state["PLOT_OUTLINE"] == regenerated["state"]["PLOT_OUTLINE"] and state["direction"] == ""
    assert not state.get("producer_edits")

    undo_regeneration = (await api.post(f"/sessions/{session_id}/undo")).json()
    assert undo_regeneration["undid_kind"] == "regenerate"
    state = (await state_of(api, session_id))["state"]
    assert state["box_office_report"] == first["state"]["box_office_report"]
    history = (await api.get(f"/sessions/{session_id}/history")).json()["items"]
    assert [i["question"]["kind"] for i in history][-4:] == ["message", "edit", "undo", "undo"]


async def test_an_edit_reaches_the_document_when_the_document_is_regenerated(api) -> None:
    studio, session_id = await pitched(api)
    current = await state_of(api, session_id)
    edited = with_logline(current["state"]["PLOT_OUTLINE"], MY_LOGLINE)
    await api.patch(f"/sessions/{session_id}/state",
                    json={"expected_version": current["version"], "changes": {"PLOT_OUTLINE": edited}})
    response = await api.post(f"/sessions/{session_id}/regenerate", json={"stage": "document"})
    frames = await wait_run(studio, session_id, response.json()["run_id"])
    kept = {f["agent"] for f in frames if f["type"] == "STEP_FINISHED" and f.get("kept")}
    assert {"writers_room", "box_office_researcher", "casting_agent"} <= kept
    [(filename, docs)] = (await documents(studio, "local", session_id)).items()
    assert len(docs) == 2 and logline(docs[-1]) == MY_LOGLINE and logline(docs[0]) != MY_LOGLINE
    pitches = (await api.get(f"/sessions/{session_id}/pitches")).json()
    assert [v["revision"] for v in pitches[0]["versions"]] == [0, 1]
    download = await api.get(pitches[0]["versions"][-1]["markdown_url"].removeprefix("/api/v1"))
    assert MY_LOGLINE in download.text


async def test_regenerating_the_writers_room_drafts_again_from_the_outline_and_reruns_preproduction(api) -> None:
    studio, session_id = await pitched(api)
    before = (await state_of(api, session_id))["state"]
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        mock_wikipedia(router)
        response = await api.post(f"/sessions/{session_id}/regenerate", json={"stage": "writers_room"})
        frames = await wait_run(studio, session_id, response.json()["run_id"])
        wikipedia_calls = router.calls.call_count
    assert wikipedia_calls == 0  # the research stays
    worked = {f["agent"] for f in frames if f["type"] == "STEP_FINISHED" and not f.get("kept")}
    assert {"screenwriter", "critic", "box_office_researcher", "casting_agent", "file_writer"} <= worked
    after = (await state_of(api, session_id))["state"]
    assert "A fresh draft for revision 1" in after["PLOT_OUTLINE"] and after["research"] == before["research"]
    drafts = [f for f in frames if f["type"] == "STATE_DELTA" and f["agent"] == "screenwriter"]
    assert drafts  # a new draft was written in this run


async def test_a_message_said_while_an_edit_is_stored_waits_for_it_and_is_never_a_note_to_the_edit(api) -> None:
    studio, session_id = await pitched(api)
    current = await state_of(api, session_id)
    edit, said = await asyncio.gather(
        api.patch(f"/sessions/{session_id}/state",
                  json={"expected_version": current["version"], "changes": {"direction": "for teenagers"}}),
        studio.runs.say(session_id=session_id, user_id="local", text="make it darker"),
        return_exceptions=True,
    )
    if not isinstance(said, Exception):
        await said.done.wait()
    async with studio.sessionmaker() as db:
        notes = await QuestionRepository(db).notes_of(session_id)
    assert notes == []
    # One of the two went first; the other either followed it or was refused with 409.
    assert edit.status_code in (200, 409)
    assert not isinstance(said, Exception) or getattr(said, "status_code", None) == 409


async def test_text_that_cannot_be_stored_is_refused_before_anything_is_stored(api) -> None:
    """Lone surrogates (valid JSON, not valid text) and NaN in edits, branch titles and session
    titles: a 422 that says what is wrong; nothing stored changes and the session stays readable."""
    studio, session_id = await pitched(api)
    current = await state_of(api, session_id)
    stored = await row_counts(studio)
    raw = {"content-type": "application/json"}
    bodies = [
        ("PATCH", f"/sessions/{session_id}/state",
         '{"expected_version": %d, "changes": {"direction": "a\\ud800b"}}' % current["version"], "surrogate"),
        ("PATCH", f"/sessions/{session_id}/state",
         '{"expected_version": %d, "changes": {"\\ud800": "x"}}' % current["version"], "cannot be edited"),
        ("PATCH", f"/sessions/{session_id}/state", '{"expected_version": NaN, "changes": {"direction": "x"}}', None),
        ("PATCH", f"/sessions/{session_id}/state", '{"expected_version": 1e400, "changes": {"direction": "x"}}', None),
        ("POST", f"/sessions/{session_id}/branches", '{"from_version": 1, "title": "x\\udc00"}', None),
        ("POST", "/sessions", '{"title": "x\\udc00"}', None),
    ]
    for method, url, body, words in bodies:
        response = await api.request(method, url, content=body, headers=raw)
        assert response.status_code == 422, (url, body, response.text)
        if words:
            assert words in str(response.json()["detail"]), response.json()
    long_name = "x" * 300
    compare = await api.get(f"/sessions/{session_id}/compare",
                            params={"a": f"pitch:{session_id}:{long_name}:0", "b": f"pitch:{session_id}:{long_name}:0"})
    assert compare.status_code == 404
    assert (await api.get(f"/sessions/{session_id}/pitches/{long_name}")).status_code == 404
    assert await row_counts(studio) == stored
    assert (await state_of(api, session_id)) == current
    assert (await api.get(f"/sessions/{session_id}/timeline")).status_code == 200


async def test_an_undone_run_cannot_be_resumed(api) -> None:
    studio, session_id = await pitched(api)
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        mock_wikipedia(router)
        revision, _ = await run_message(studio, session_id, "make it darker")
    async with studio.sessionmaker.begin() as db:  # as if the server had died during the revision
        await QuestionRepository(db).finish(revision, status="interrupted", error="the server stopped")
    assert (await api.post(f"/sessions/{session_id}/undo")).json()["undid"] == revision
    response = await api.post(f"/sessions/{session_id}/runs/{revision}/resume")
    assert response.status_code == 409 and "undone" in response.json()["detail"]


async def test_a_change_whose_storage_fails_ends_as_failed_and_says_503(api, monkeypatch) -> None:
    studio, session_id = await pitched(api)
    current = await state_of(api, session_id)
    original = type(studio.session_service).append_event

    async def broken(self, session, event):  # noqa: ANN001, ANN202
        if event.author == "producer":
            raise ConnectionError("the database went away")
        return await original(self, session, event)

    monkeypatch.setattr(type(studio.session_service), "append_event", broken)
    response = await api.patch(f"/sessions/{session_id}/state",
                               json={"expected_version": current["version"], "changes": {"direction": "noir"}})
    assert response.status_code == 503 and "could not be stored" in response.json()["detail"]
    monkeypatch.setattr(type(studio.session_service), "append_event", original)
    async with studio.sessionmaker() as db:
        edits = [q for q in await QuestionRepository(db).for_session(session_id) if q.kind == "edit"]
    assert [(q.run_status, "went away" in (q.run_error or "")) for q in edits] == [("failed", True)]
    assert (await state_of(api, session_id))["state"]["direction"] == ""
    assert studio.runs.active(session_id) is None  # the session is free again


def test_an_edit_of_any_section_is_seen_even_a_fourth_act() -> None:
    from agente_films.edits import changed_sections, plan_edit

    outline = "**Title:** T\n\n**Logline:** L\n\n**Act I: A.** a\n\n**Act II: B.** b\n\n**Act III: C.** c"
    with_coda = outline + "\n\n**Act IV: Coda.** d"
    assert changed_sections(outline, with_coda) == ["Act IV"]
    assert changed_sections(with_coda, with_coda.replace("Coda.** d", "Coda.** e")) == ["Act IV"]
    assert changed_sections(outline, outline.replace("\n\n**Act I", "\n\n\n**Act I")) == []
    plan = plan_edit({"PLOT_OUTLINE": with_coda}, {"PROMPT": "x", "PLOT_OUTLINE": outline}, version=3, max_chars=10_000)
    assert plan.changed == ["Act IV"] and plan.delta["producer_edits"]["sections"] == ["Act IV"]
