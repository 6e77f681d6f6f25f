"""Chatting directs the team (offline model, in process, SQLite and PostgreSQL): a revision
continues the current pitch, a note said during a run reaches the writers' room at its next round,
a note said too late becomes a revision right after the run, a switch makes a second project."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
import respx

from agente_films.agents.team import APP_NAME
from agente_films.db.repositories import (
    AnswerRepository,
    ProjectRepository,
    QuestionRepository,
    ReasoningRepository,
    SessionRepository,
)
from agente_films.runs.manager import MAX_PENDING_NOTES, NoteAccepted, RunInProgress, TooManyNotes
from agente_films.studio import Studio
from tests.conftest import make_settings
from tests.test_pipeline import mock_wikipedia, run_message

DARKER = "one stubborn conviction curdles into an obsession"


@pytest.fixture
async def live_studio(database_url: str, tmp_path: Path):
    """The offline model at its real pace (12 ms a chunk): a round takes long enough to talk into."""
    studio = await Studio.open(make_settings(database_url, tmp_path, offline_chunk_delay_ms=12))
    yield studio
    await studio.close()


async def wait_for_frame(studio: Studio, session_id: str, test: Callable[[dict], bool], timeout: float = 30) -> dict:
    async def find() -> dict:
        async for frame in studio.bus.subscribe(session_id, 0, None):
            if test(frame):
                return frame
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(find(), timeout)


async def start_until(studio: Studio, session_id: str, text: str, agent: str):  # noqa: ANN201
    """Start a run and wait until `agent` starts working in it (a moment to talk into)."""
    run = await studio.runs.start(session_id=session_id, user_id="local", text=text)
    await wait_for_frame(
        studio, session_id, lambda f: f["type"] == "STEP_STARTED" and f["agent"] == agent and f["runId"] == run.run_id
    )
    return run


async def documents(studio: Studio, user_id: str, session_id: str) -> dict[str, list[str]]:
    scope = {"app_name": APP_NAME, "user_id": user_id, "session_id": session_id}
    found = {}
    for filename in await studio.artifact_service.list_artifact_keys(**scope):
        versions = await studio.artifact_service.list_artifact_versions(filename=filename, **scope)
        found[filename] = [
            (await studio.artifact_service.load_artifact(filename=filename, version=v.version, **scope)).inline_data.data.decode()
            for v in sorted(versions, key=lambda v: v.version)
        ]
    return found


def logline(markdown: str) -> str:
    return markdown.split("## Logline\n\n", 1)[1].split("\n", 1)[0]


def section(markdown: str, name: str) -> str:
    return markdown.split(f"## {name}\n\n", 1)[1].split("\n## ", 1)[0]


async def test_a_revision_continues_the_pitch_and_saves_its_next_version(studio: Studio) -> None:
    row = await studio.create_session("local")
    with respx.mock(assert_all_mocked=True) as router:
        mock_wikipedia(router)
        first, _ = await run_message(studio, row.id, "I'd like a film about Ada Lovelace")
        before = await studio.adk_state(row)
        calls_before = router.calls.call_count
        revision, frames = await run_message(studio, row.id, "make it darker")
        revision_calls = router.calls.call_count - calls_before

    state = await studio.adk_state(row)
    # The subject, its research and the title stay; the revision counter moves on.
    assert state["PROMPT"] == "Ada Lovelace" and state["revision"] == 1
    assert state["research"] == before["research"]
    assert calls_before > 0 and revision_calls == 0  # the research stays: nothing new to look up
    [note] = state["producer_notes"]
    assert (note["text"], note["status"], note["round"], note["addressed"]) == ("Make it darker", "addressed", 1, True)
    assert "darker" in note["verdict"]

    # The document: the same file, version 1, darker where the note asks, the rest kept.
    [(filename, versions)] = (await documents(studio, "local", row.id)).items()
    assert len(versions) == 2
    v0, v1 = versions
    assert DARKER not in logline(v0) and DARKER in logline(v1)
    assert section(v0, "Box-office report") == section(v1, "Box-office report")
    assert section(v0, "Casting report") == section(v1, "Casting report")
    assert section(v0, "Sources") == section(v1, "Sources")
    assert "Make it darker" in section(v1, "Producer's notes")
    scope = {"app_name": APP_NAME, "user_id": "local", "session_id": row.id}
    latest = await studio.artifact_service.get_artifact_version(filename=filename, **scope)
    assert latest.custom_metadata["revision"] == 1 and latest.custom_metadata["notes"] == ["Make it darker"]

    async with studio.sessionmaker() as db:
        answers = [a.agent_name for a in await AnswerRepository(db).for_question(revision)]
        reasoning = [r for r in await ReasoningRepository(db).for_session(row.id) if r.question_id == revision]
        projects = await ProjectRepository(db).list("local", session_id=row.id, limit=10, offset=0)
        session = await SessionRepository(db).get(row.id, "local")
    # One round; the researcher looked nothing up; preproduction kept both reports.
    assert answers == ["greeter", "researcher", "screenwriter", "critic", "file_writer"]
    assert not [r for r in reasoning if r.tool_calls and r.tool_calls.get("name") == "wikipedia_search"]
    kept = [f["agent"] for f in frames if f["type"] == "STEP_FINISHED" and f.get("kept")]
    assert sorted(kept) == ["box_office_researcher", "casting_agent"]
    assert [p.subject for p in projects] == ["Ada Lovelace"] and session.title == "Ada Lovelace"
    # The stream told it: the note taken in round 1, the critic's verdict, the document's version.
    customs = [(f["name"], f["value"]) for f in frames if f["type"] == "CUSTOM"]
    taken = [v for name, v in customs if name == "note_taken"]
    verdicts = [v for name, v in customs if name == "note_verdict"]
    assert [(v["text"], v["round"], v["revision"]) for v in taken] == [("Make it darker", 1, 1)]
    assert [(v["addressed"], v["verdict"]) for v in verdicts] == [(True, note["verdict"])]
    assert [v["version"] for name, v in customs if name == "artifact_saved"] == [1]
    assert first != revision


async def test_a_casting_note_reruns_casting_only(studio: Studio) -> None:
    row = await studio.create_session("local")
    await run_message(studio, row.id, "Marie Curie")
    _, frames = await run_message(studio, row.id, "cast someone younger")
    kept = [f["agent"] for f in frames if f["type"] == "STEP_FINISHED" and f.get("kept")]
    assert kept == ["box_office_researcher"]
    [(_, versions)] = (await documents(studio, "local", row.id)).items()
    assert "Revised for the producer's note \u201cCast someone younger\u201d" in section(versions[1], "Casting report")
    assert section(versions[0], "Box-office report") == section(versions[1], "Box-office report")


async def test_a_note_during_a_run_is_taken_at_the_next_round_and_addressed(live_studio: Studio) -> None:
    studio = live_studio
    row = await studio.create_session("local")
    run = await start_until(studio, row.id, "Ada Lovelace", "researcher")
    said = await studio.runs.say(session_id=row.id, user_id="local", text="Act II drags")
    assert isinstance(said, NoteAccepted) and said.run_id == run.run_id and not said.for_next_run
    received = await wait_for_frame(studio, row.id, lambda f: f.get("name") == "note_received")
    assert received["value"] == {"noteId": said.note_id, "text": "Act II drags", "keptForNextRun": False}
    await run.done.wait()
    assert run.status == "completed"

    frames = [f async for f in _frames_of(studio, row.id, run.run_id)]
    taken = [f["value"] for f in frames if f.get("name") == "note_taken"]
    verdict = [f["value"] for f in frames if f.get("name") == "note_verdict"]
    assert [(t["noteId"], t["round"]) for t in taken] == [(said.note_id, 2)]
    assert verdict[0]["addressed"] is True and "Act II" in verdict[0]["verdict"]
    # The critic approved only after the verdict, in that round.
    exit_seq = next(f["seq"] for f in frames if f.get("name") == "loop_exit")
    assert verdict[0] and next(f["seq"] for f in frames if f.get("name") == "note_verdict") < exit_seq

    async with studio.sessionmaker() as db:
        stored = await QuestionRepository(db).get(said.note_id, row.id)
    assert (stored.kind, stored.note_status, stored.run_status) == ("note", "addressed", "note")
    assert stored.metadata_["round"] == 2 and stored.metadata_["run_id"] == run.run_id
    [(_, [v0])] = (await documents(studio, "local", row.id)).items()
    assert "**Act II: The Cost (rewritten, tighter).**" in v0


async def _frames_of(studio: Studio, session_id: str, run_id: str):
    async for frame in studio.bus.subscribe(session_id, 0, None):
        if frame.get("runId") == run_id:
            yield frame
            if frame["type"] in ("RUN_FINISHED", "RUN_ERROR"):
                return


async def test_a_note_after_the_writers_room_becomes_a_revision_right_after_the_run(live_studio: Studio) -> None:
    studio = live_studio
    row = await studio.create_session("local")
    run = await start_until(studio, row.id, "Hypatia of Alexandria", "preproduction_team")
    said = await studio.runs.say(session_id=row.id, user_id="local", text="make it funnier")
    assert isinstance(said, NoteAccepted)
    await run.done.wait()
    follow_up = await wait_for_frame(
        studio, row.id, lambda f: f["type"] == "RUN_STARTED" and f["runId"] != run.run_id
    )
    assert follow_up["question"].startswith("Notes for the writers' room: make it funnier")
    end = await wait_for_frame(
        studio, row.id, lambda f: f["type"] == "RUN_FINISHED" and f["runId"] == follow_up["runId"]
    )
    assert end["result"]["status"] == "completed"
    state = await studio.adk_state(row)
    assert state["revision"] == 1
    assert [(n["id"], n["status"]) for n in state["producer_notes"]] == [(said.note_id, "addressed")]
    [(_, versions)] = (await documents(studio, "local", row.id)).items()
    assert len(versions) == 2 and "gloriously absurd" in logline(versions[1])


async def test_a_switch_makes_a_second_project_and_keeps_the_first_document(studio: Studio) -> None:
    row = await studio.create_session("local")
    await run_message(studio, row.id, "Ada Lovelace")
    run_id, frames = await run_message(studio, row.id, "actually, let's do Hedy Lamarr instead")
    async with studio.sessionmaker() as db:
        projects = await ProjectRepository(db).list("local", session_id=row.id, limit=10, offset=0)
        greeter = (await AnswerRepository(db).for_question(run_id))[0].answer_text
    assert sorted(p.subject for p in projects) == ["Ada Lovelace", "Hedy Lamarr"]
    assert "stays in Documents" in greeter
    docs = await documents(studio, "local", row.id)
    assert len(docs) == 2 and all(len(v) == 1 for v in docs.values())
    state = await studio.adk_state(row)
    assert state["PROMPT"] == "Hedy Lamarr" and state["revision"] == 0 and state["producer_notes"] == []


async def test_greetings_and_questions_start_no_team_and_keep_the_title(studio: Studio) -> None:
    row = await studio.create_session("local", title="My Tesla film", title_set_by_user=True)
    for text in ("hi there, what do you do?", "how long does it take?", "which model is this?"):
        run_id, frames = await run_message(studio, row.id, text)
        agents = {f.get("agent") for f in frames if f["type"] == "STEP_STARTED"}
        assert agents == {"greeter"}, text
    _, frames = await run_message(studio, row.id, "Can you make a movie about Nikola Tesla?", )
    state = await studio.adk_state(row)
    assert state["PROMPT"] == "Nikola Tesla"
    async with studio.sessionmaker() as db:
        session = await SessionRepository(db).get(row.id, "local")
    assert session.title == "My Tesla film"


async def test_a_new_subject_during_a_run_is_refused_and_notes_are_capped(live_studio: Studio) -> None:
    studio = live_studio
    row = await studio.create_session("local")
    run = await start_until(studio, row.id, "Grace Hopper", "researcher")
    with pytest.raises(RunInProgress) as refused:
        await studio.runs.say(session_id=row.id, user_id="local", text="let's do Hedy Lamarr instead")
    assert "Hedy Lamarr" in str(refused.value) and refused.value.run_id == run.run_id
    # Said all at once: exactly the cap is accepted.
    said = await asyncio.gather(
        *(studio.runs.add_note(session_id=row.id, user_id="local", run_id=run.run_id, text=f"note {n}")
          for n in range(MAX_PENDING_NOTES + 3)),
        return_exceptions=True,
    )
    assert sum(isinstance(s, NoteAccepted) for s in said) == MAX_PENDING_NOTES
    assert sum(isinstance(s, TooManyNotes) for s in said) == 3, [s for s in said if not isinstance(s, NoteAccepted)]
    with pytest.raises(TooManyNotes) as capped:
        await studio.runs.say(session_id=row.id, user_id="local", text="tighten the ending")
    assert capped.value.status_code == 429
    await studio.runs.cancel(row.id)


async def test_a_note_to_a_cancelled_run_waits_for_the_next_run(live_studio: Studio) -> None:
    studio = live_studio
    row = await studio.create_session("local")
    await run_message(studio, row.id, "Ada Lovelace")
    run = await start_until(studio, row.id, "give Charles Babbage a bigger role", "greeter")
    said = await studio.runs.say(session_id=row.id, user_id="local", text="Act II drags")
    assert isinstance(said, NoteAccepted)
    await studio.runs.cancel(row.id)
    frames = [f async for f in _frames_of(studio, row.id, run.run_id)]
    kept = [f["value"] for f in frames if f.get("name") == "note_received" and f["value"]["keptForNextRun"]]
    assert run.status == "cancelled" and [k["noteId"] for k in kept] == [said.note_id]
    async with studio.sessionmaker() as db:
        pending = await QuestionRepository(db).pending_notes(row.id)
    assert [q.id for q in pending] == [said.note_id]
    # The next revision takes it at its first round, with its own note.
    next_run, frames = await run_message(studio, row.id, "make it darker")
    taken = sorted(f["value"]["text"] for f in frames if f.get("name") == "note_taken")
    assert taken == ["Act II drags", "Make it darker"]
    async with studio.sessionmaker() as db:
        assert await QuestionRepository(db).pending_notes(row.id) == []


async def test_a_note_that_reaches_a_run_just_after_it_completed_is_applied_by_a_revision(studio: Studio) -> None:
    row = await studio.create_session("local")
    done, _ = await run_message(studio, row.id, "Ada Lovelace")
    # Sent while the run was ending: it is stored for that run, which no longer takes notes.
    said = await studio.runs.add_note(session_id=row.id, user_id="local", run_id=done, text="make it darker")
    assert said.for_next_run
    follow_up = await wait_for_frame(studio, row.id, lambda f: f["type"] == "RUN_STARTED" and f["runId"] != done)
    await wait_for_frame(studio, row.id, lambda f: f["type"] == "RUN_FINISHED" and f["runId"] == follow_up["runId"])
    state = await studio.adk_state(row)
    assert state["revision"] == 1 and [(n["id"], n["status"]) for n in state["producer_notes"]] == [(said.note_id, "addressed")]
    async with studio.sessionmaker() as db:
        assert await QuestionRepository(db).pending_notes(row.id) == []
    [(_, versions)] = (await documents(studio, "local", row.id)).items()
    assert len(versions) == 2 and DARKER in logline(versions[1])


async def test_notes_kept_from_a_stopped_run_are_dropped_when_the_next_run_is_another_film(live_studio: Studio) -> None:
    studio = live_studio
    row = await studio.create_session("local")
    run = await start_until(studio, row.id, "Ada Lovelace", "greeter")
    said = await studio.runs.say(session_id=row.id, user_id="local", text="give Charles Babbage a bigger role")
    await studio.runs.cancel(row.id)
    assert run.status == "cancelled"
    _, frames = await run_message(studio, row.id, "Hedy Lamarr")
    assert not [f for f in frames if f.get("name") == "note_taken"]
    state = await studio.adk_state(row)
    assert state["PROMPT"] == "Hedy Lamarr" and state["producer_notes"] == []
    async with studio.sessionmaker() as db:
        stored = await QuestionRepository(db).get(said.note_id, row.id)
    assert stored.note_status == "dropped"


async def test_greetings_and_questions_during_a_run_are_refused_with_the_reason(live_studio: Studio) -> None:
    studio = live_studio
    row = await studio.create_session("local")
    run = await start_until(studio, row.id, "Grace Hopper", "researcher")
    for text in ("thanks!", "how long will it take?"):
        with pytest.raises(RunInProgress) as refused:
            await studio.runs.say(session_id=row.id, user_id="local", text=text)
        assert "the greeter answers once this run finishes" in str(refused.value)
    async with studio.sessionmaker() as db:
        assert await QuestionRepository(db).notes_of(row.id) == []
    await studio.runs.cancel(row.id)
    assert run.status == "cancelled"
