"""The whole agent team on the offline model, in process, on SQLite and on PostgreSQL: what a run
stores (questions, answers, reasoning, snapshots, agent events, project) and the document it saves."""

from __future__ import annotations

import asyncio
import gc
import weakref
from pathlib import Path

import pytest
import respx
from google.adk.events.event import Event
from sqlalchemy import func, select

from agente_films.agents.team import APP_NAME
from agente_films.db.repositories import (
    AgentEventRepository,
    AnswerRepository,
    ProjectRepository,
    QuestionRepository,
    ReasoningRepository,
    StateRepository,
    UsageRepository,
)
from agente_films.db.tables import AgentEvent, InferentialReasoning
from agente_films.studio import Studio
from tests.conftest import WIKI, make_settings

ADA_URL = "https://en.wikipedia.org/wiki/Ada_Lovelace"
ENGINE_URL = "https://en.wikipedia.org/wiki/Analytical_engine"


def mock_wikipedia(router: respx.MockRouter) -> None:
    router.get(f"{WIKI}/w/rest.php/v1/search/page").respond(
        json={"pages": [{"key": "Ada_Lovelace", "title": "Ada Lovelace"}, {"key": "Analytical_engine", "title": "Analytical engine"}]}
    )
    router.get(f"{WIKI}/api/rest_v1/page/summary/Ada_Lovelace").respond(
        json={
            "title": "Ada Lovelace",
            "extract": "Augusta Ada King, Countess of Lovelace, was an English mathematician and writer. "
            "She is chiefly known for her work on Charles Babbage's Analytical Engine.",
            "content_urls": {"desktop": {"page": ADA_URL}},
        }
    )
    router.get(f"{WIKI}/api/rest_v1/page/summary/Analytical_engine").respond(
        json={
            "title": "Analytical engine",
            "extract": "The analytical engine was a proposed digital mechanical general-purpose computer "
            "designed by Charles Babbage.",
            "content_urls": {"desktop": {"page": ENGINE_URL}},
        }
    )


async def run_message(studio: Studio, session_id: str, text: str) -> tuple[str, list[dict]]:
    frames: list[dict] = []
    run = await studio.runs.start(session_id=session_id, user_id="local", text=text)
    _, before = await studio.bus.position(session_id)
    await run.done.wait()
    async for frame in studio.bus.subscribe(session_id, 0, None):
        frames.append(frame)
        if frame.get("runId") == run.run_id and frame["type"] in ("RUN_FINISHED", "RUN_ERROR"):
            break
    assert before >= 1
    return run.run_id, [f for f in frames if f.get("runId") == run.run_id]


async def test_offline_team_writes_a_grounded_pitch_and_stores_everything(studio: Studio) -> None:
    row = await studio.create_session("local")
    with respx.mock(assert_all_mocked=True, assert_all_called=True) as router:
        mock_wikipedia(router)
        greeting_run, _ = await run_message(studio, row.id, "hello")
        run_id, frames = await run_message(studio, row.id, "I'd like a film about Ada Lovelace")

    async with studio.sessionmaker() as db:
        questions = await QuestionRepository(db).for_session(row.id)
        answers = await AnswerRepository(db).for_question(run_id)
        reasoning = [r for r in await ReasoningRepository(db).for_session(row.id) if r.question_id == run_id]
        snapshots = await StateRepository(db).versions(row.id)
        events = await AgentEventRepository(db).for_session(row.id, question_id=run_id)
        project = await ProjectRepository(db).latest_for_session(row.id)

    # Questions: both messages, in order, both runs completed.
    assert [q.question_text for q in questions] == ["hello", "I'd like a film about Ada Lovelace"]
    assert [q.run_status for q in questions] == ["completed", "completed"]
    assert questions[0].id == greeting_run

    # Answers: each agent's reply, in the order the team worked (two writers' room rounds).
    names = [a.agent_name for a in answers]
    assert names[:7] == [
        "greeter",
        "researcher", "screenwriter", "critic",
        "researcher", "screenwriter", "critic",
    ]
    # The two preproduction lanes run in parallel: either may finish first.
    assert sorted(names[7:9]) == ["box_office_researcher", "casting_agent"]
    assert names[9:] == ["file_writer"]
    assert "offline demo model" in answers[0].answer_text
    assert answers[3].answer_text.startswith("Not yet")
    assert answers[6].answer_text.startswith("Approved")

    # Reasoning: tool calls with arguments and results, the transfer, the loop exit.
    kinds = [(r.agent_name, r.reasoning_type) for r in reasoning]
    assert ("greeter", "transfer") in kinds
    assert ("critic", "loop_exit") in kinds
    exit_row = next(r for r in reasoning if r.reasoning_type == "loop_exit")
    assert exit_row.reasoning_text == "critic ends writers_room after round 2"
    searches = [r for r in reasoning if r.reasoning_type == "tool_call" and r.tool_calls["name"] == "wikipedia_search"]
    assert [s.tool_calls["args"]["query"] for s in searches] == [
        "Ada Lovelace",
        "Ada Lovelace legacy and historical context",
    ]
    results = [r for r in reasoning if r.reasoning_type == "tool_result" and r.tool_calls["name"] == "wikipedia_search"]
    assert results[0].tool_calls["response"]["results"][0]["url"] == ADA_URL
    # Reasoning is linked to the answer it explains.
    researcher_answers = {a.id for a in answers if a.agent_name == "researcher"}
    assert {r.answer_id for r in searches} <= researcher_answers and all(r.answer_id for r in searches)

    # Snapshots: versioned, whole state; the first draft stays visible after the second replaced it.
    assert [s.version for s in snapshots] == list(range(1, len(snapshots) + 1))
    drafts = [s.state_value["PLOT_OUTLINE"] for s in snapshots if "PLOT_OUTLINE" in s.changed_keys and s.state_value["PLOT_OUTLINE"]]
    assert len(drafts) == 2 and drafts[0] != drafts[1] and "Draft 2" in drafts[1]
    final = snapshots[-1].state_value
    assert final["PROMPT"] == "Ada Lovelace"
    assert len(final["research"]) == 2 and ADA_URL in final["research"][0]
    assert len(final["CRITICAL_FEEDBACK"]) == 1
    assert final["box_office_report"] and final["casting_report"]

    # Agent events: every stored ADK event plus agent start/end with the loop iteration.
    critic_rounds = [e.event_data.get("iteration") for e in events if e.agent_name == "critic" and e.event_type == "agent_start"]
    assert critic_rounds == [1, 2]
    assert all(e.elapsed_ms is not None for e in events)
    assert [e.elapsed_ms for e in events] == sorted(e.elapsed_ms for e in events)

    # The project follows the pitch: subject, the screenwriter's title, and its document.
    assert project is not None and project.subject == "Ada Lovelace" and project.status == "pitched"
    assert project.document and project.document.endswith(".md")

    # Usage: every model call is counted per agent; the offline model costs nothing.
    async with studio.sessionmaker() as db:
        usage = await UsageRepository(db).totals(row.id, question_id=run_id)
    calls = {line["agent_name"]: line["calls"] for line in usage}
    assert calls["critic"] == 3 and calls["researcher"] == 6 and calls["file_writer"] == 2
    assert all(line["prompt_tokens"] > 0 and line["cost_usd"] == 0.0 for line in usage)

    # The document: a versioned artifact with every section and the sources found.
    part = await studio.artifact_service.load_artifact(
        app_name=APP_NAME, user_id="local", session_id=row.id, filename=project.document
    )
    document = part.inline_data.data.decode()
    for heading in ("# ", "## Logline", "## Outline", "## Box-office report", "## Casting report", "## Sources"):
        assert heading in document
    assert ADA_URL in document and ENGINE_URL in document
    assert "Act III" in document and "offline demo model" in document
    assert document.startswith(f"# {project.title}")

    # Frames: one run, in order, with both rounds and the saved document.
    seqs = [f["seq"] for f in frames]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert frames[0]["type"] == "RUN_STARTED" and frames[-1]["type"] == "RUN_FINISHED"
    rounds = [f["iteration"] for f in frames if f["type"] == "STEP_STARTED" and f["stepName"] == "researcher"]
    assert rounds == [1, 2]
    saved = [f for f in frames if f["type"] == "CUSTOM" and f["name"] == "artifact_saved"]
    assert saved and saved[0]["value"]["filename"] == project.document


async def test_partial_chunks_are_streamed_but_never_stored(studio: Studio) -> None:
    row = await studio.create_session("local")
    run_id, frames = await run_message(studio, row.id, "Hypatia")
    chunks = [f for f in frames if f["type"] == "TEXT_MESSAGE_CONTENT"]
    async with studio.sessionmaker() as db:
        stored = await db.scalar(select(func.count()).select_from(AgentEvent).where(AgentEvent.question_id == run_id))
        answers = await AnswerRepository(db).for_question(run_id)
    # Many chunks went out; the stored rows are one per finished event, with the full text.
    assert len(chunks) > 5 * len(answers)
    streamed = "".join(f["delta"] for f in chunks if f["agent"] == "screenwriter")
    assert streamed == "".join(a.answer_text for a in answers if a.agent_name == "screenwriter")
    assert stored < len(chunks)


async def test_a_new_subject_in_the_same_session_starts_a_new_pitch(studio: Studio) -> None:
    row = await studio.create_session("local")
    await run_message(studio, row.id, "Ada Lovelace")
    await run_message(studio, row.id, "Nikola Tesla")
    async with studio.sessionmaker() as db:
        projects = await ProjectRepository(db).list("local", session_id=row.id, limit=10, offset=0)
        loop_exits = await db.scalar(
            select(func.count()).select_from(InferentialReasoning).where(
                InferentialReasoning.session_id == row.id, InferentialReasoning.reasoning_type == "loop_exit"
            )
        )
    assert sorted(p.subject for p in projects) == ["Ada Lovelace", "Nikola Tesla"]
    assert loop_exits == 2  # the second pitch also took two rounds: feedback was reset
    state = await studio.adk_state(row)
    assert state["PROMPT"] == "Nikola Tesla" and len(state["research"]) == 2


@pytest.mark.parametrize("cut_after", ["wikipedia_search", "append_to_state"])
async def test_resume_finishes_a_run_cut_off_right_after_a_tool_result(
    studio: Studio, monkeypatch: pytest.MonkeyPatch, cut_after: str
) -> None:
    """A process that dies just after ADK stored a tool result is the hard case for ADK's resume."""
    from agente_films.runs.recorder import RunRecorder

    original = RunRecorder.on_event

    async def die_after_tool_result(self, event):  # noqa: ANN001, ANN202
        await original(self, event)
        if event.author == "researcher" and [r.name for r in event.get_function_responses()] == [cut_after]:
            raise asyncio.CancelledError  # what a SIGKILL looks like from here: nothing more runs

    row = await studio.create_session("local")
    monkeypatch.setattr(RunRecorder, "on_event", die_after_tool_result)
    run = await studio.runs.start(session_id=row.id, user_id="local", text="Ada Lovelace")
    await run.done.wait()
    monkeypatch.setattr(RunRecorder, "on_event", original)
    async with studio.sessionmaker.begin() as db:
        await QuestionRepository(db).finish(run.run_id, status="interrupted", error="killed")

    resumed = await studio.runs.resume(session_id=row.id, user_id="local", run_id=run.run_id)
    await resumed.done.wait()
    async with studio.sessionmaker() as db:
        question = await QuestionRepository(db).get(run.run_id, row.id)
        answers = await AnswerRepository(db).for_question(run.run_id)
    assert question.run_status == "completed"
    assert answers[-1].agent_name == "file_writer"
    assert len(await studio.artifact_service.list_artifact_keys(app_name=APP_NAME, user_id="local", session_id=row.id)) == 1


async def test_a_kill_during_a_tool_loses_the_call_with_its_rows_and_the_resume_redoes_it(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADK's events and our rows for them are written in one transaction, behind the frames, and
    never with a tool call whose result has not come back. A kill while a tool runs loses that
    call with its rows: the database holds a prefix of the run (no event without its rows, no rows
    without their event, no dangling call), and the resume makes the call again."""
    from agente_films.runs.recorder import RunRecorder

    original = RunRecorder.on_event
    cut: dict[str, str] = {}

    async def die_while_the_tool_runs(self, event):  # noqa: ANN001, ANN202
        await original(self, event)
        if event.author == "researcher" and [c.name for c in event.get_function_calls()] == ["wikipedia_search"]:
            cut["event_id"] = event.id
            await asyncio.sleep(0.2)  # the writer would commit now if it did not wait for the result
            self.writer._entries.clear()  # what was queued is lost with the process
            self.writer._by_event.clear()
            raise asyncio.CancelledError

    row = await studio.create_session("local")
    monkeypatch.setattr(RunRecorder, "on_event", die_while_the_tool_runs)
    run = await studio.runs.start(session_id=row.id, user_id="local", text="Ada Lovelace")
    await run.done.wait()
    monkeypatch.setattr(RunRecorder, "on_event", original)

    async def stored_and_recorded(invocation_id: str | None) -> tuple[list, set[str]]:
        session = await studio.session_service.get_session(app_name=APP_NAME, user_id="local", session_id=row.id)
        async with studio.sessionmaker() as db:
            recorded = await AgentEventRepository(db).event_ids(run.run_id)
        stored = [e for e in session.events if e.invocation_id == invocation_id]
        return stored, {e for e in recorded if not e.startswith(("step-", "run-"))}

    async with studio.sessionmaker() as db:
        question = await QuestionRepository(db).get(run.run_id, row.id)
    stored, recorded = await stored_and_recorded(question.invocation_id)
    assert stored and cut["event_id"] not in {e.id for e in stored}, "the call whose batch never committed is gone"
    assert {e.id for e in stored} == recorded, "what ADK holds and what we recorded are the same prefix"
    calls = {c.id for e in stored for c in e.get_function_calls()}
    assert calls == {r.id for e in stored for r in e.get_function_responses()}, "no call without its result"
    async with studio.sessionmaker.begin() as db:
        await QuestionRepository(db).finish(run.run_id, status="interrupted", error="killed")

    resumed = await studio.runs.resume(session_id=row.id, user_id="local", run_id=run.run_id)
    await resumed.done.wait()

    stored, recorded = await stored_and_recorded(question.invocation_id)
    async with studio.sessionmaker() as db:
        final = await QuestionRepository(db).get(run.run_id, row.id)
        answers = await AnswerRepository(db).for_question(run.run_id)
    assert final.run_status == "completed"
    assert {e.id for e in stored} == recorded, "every event of the resumed run has its rows, and no row lacks its event"
    assert answers[-1].agent_name == "file_writer"
    searches = [e for e in stored if [c.name for c in e.get_function_calls()] == ["wikipedia_search"]]
    assert len(searches) == 2, "the researcher searched again after the resume (and once more in round two)"
    state = await studio.adk_state(row)
    assert len(state["research"]) == 2, "both rounds' research is in the pitch"


async def test_a_batch_that_failed_to_commit_is_retried_against_the_stored_revision(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit can fail after ADK's stale-writer check passed (a dropped connection, a locked
    database). The retry must check against what is stored, not against the revision the failed
    attempt would have written, or every later batch of the run is refused as stale."""
    from agente_films.runs.session_service import BatchingSessionService

    original = BatchingSessionService.store_events
    failures = []

    async def fail_once_after_storing(self, db, session, events):  # noqa: ANN001, ANN202
        revision = await original(self, db, session, events)
        if not failures and any(e.author == "researcher" for e in events):
            failures.append(events[0].id)
            raise ConnectionError("connection dropped before the commit")
        return revision

    monkeypatch.setattr(BatchingSessionService, "store_events", fail_once_after_storing)
    row = await studio.create_session("local")
    run_id, frames = await run_message(studio, row.id, "Ada Lovelace")
    async with studio.sessionmaker() as db:
        question = await QuestionRepository(db).get(run_id, row.id)
        recorded = await AgentEventRepository(db).event_ids(run_id)
    session = await studio.session_service.get_session(app_name=APP_NAME, user_id="local", session_id=row.id)
    assert failures, "the injected failure happened"
    assert question.run_status == "completed" and frames[-1]["type"] == "RUN_FINISHED"
    assert {e.id for e in session.events if e.invocation_id == question.invocation_id} <= recorded


async def test_a_run_whose_rows_the_database_refuses_still_ends_for_the_client(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the database refuses the run's last batch (the run's end included) on every retry,
    the run is recorded as failed on a try of its own, and the client gets its RUN_ERROR frame
    instead of waiting for a run that will never report."""
    refusals = 0
    original = QuestionRepository.finish

    async def refuse_three_times(self, *args, **kwargs):  # noqa: ANN001, ANN202
        nonlocal refusals
        if refusals < 3:
            refusals += 1
            raise ConnectionError("database is locked")
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(QuestionRepository, "finish", refuse_three_times)
    row = await studio.create_session("local")
    run_id, frames = await run_message(studio, row.id, "Ada Lovelace")
    async with studio.sessionmaker() as db:
        question = await QuestionRepository(db).get(run_id, row.id)
    assert refusals == 3
    assert frames[-1]["type"] == "RUN_ERROR" and frames[-1]["code"] == "run_failed" and frames[-1]["resumable"]
    assert "database refused" in frames[-1]["message"], "a readable message; the raw error is stored"
    assert question.run_status == "failed" and "database is locked" in question.run_error


async def test_runs_past_the_limit_wait_their_turn_and_all_complete(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MAX_ACTIVE_RUNS: the third of three runs waits (a run_queued frame says how many are ahead),
    never more than two run at once, and every pitch completes."""
    from agente_films.runs.manager import RunManager

    studio = await Studio.open(make_settings(database_url, tmp_path, max_active_runs=2, offline_chunk_delay_ms=2))
    running, most = 0, 0
    original = RunManager._run_team

    async def counted(self, *args):  # noqa: ANN001, ANN202
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            await original(self, *args)
        finally:
            running -= 1

    monkeypatch.setattr(RunManager, "_run_team", counted)
    try:
        rows = [await studio.create_session("local") for _ in range(3)]
        runs = [await studio.runs.start(session_id=r.id, user_id="local", text="Ada Lovelace") for r in rows]
        await asyncio.gather(*(run.done.wait() for run in runs))
        assert most == 2
        assert [run.status for run in runs] == ["completed"] * 3
        frames = []
        async for frame in studio.bus.subscribe(rows[2].id, 0, None):
            frames.append(frame)
            if frame["type"] == "RUN_FINISHED":
                break
        names = [f.get("name") or f["type"] for f in frames]
        assert "run_queued" in names and names.index("run_queued") < names.index("STEP_STARTED")
        assert frames[names.index("run_queued")]["value"] == {"ahead": 0}
        async with studio.sessionmaker() as db:
            for run, row in zip(runs, rows, strict=True):
                assert (await AnswerRepository(db).for_question(run.run_id))[-1].agent_name == "file_writer"
    finally:
        await studio.close()


async def test_a_finished_run_leaves_nothing_of_itself_in_memory(studio: Studio) -> None:
    """Its recorder, ADK session and events go when it ends; only its status stays for GET /runs.
    A server that kept them (a pooled connection opened during the run kept a copy of the run's
    context) had every full garbage collection walk them all: pauses of ~500 ms for every stream
    after a few hundred pitches."""
    recorders: list[weakref.ref] = []
    make_recorder = studio.runs._recorder

    def tracked_recorder(*args):  # noqa: ANN002, ANN202
        recorder = make_recorder(*args)
        recorders.append(weakref.ref(recorder))
        return recorder

    studio.runs._recorder = tracked_recorder

    def live_adk_events() -> int:
        gc.collect()
        return sum(isinstance(o, Event) for o in gc.get_objects())

    run_ids = []
    for subject in ("Ada Lovelace", "Marie Curie", "Alan Turing"):
        row = await studio.create_session("local")
        run_ids.append((await run_message(studio, row.id, subject))[0])
        if len(run_ids) == 1:
            after_one = live_adk_events()
    assert live_adk_events() <= after_one
    assert len(recorders) == 3 and [ref() for ref in recorders] == [None, None, None]
    assert [studio.runs.find(run_id).status for run_id in run_ids] == ["completed"] * 3


def _nth(test, n: int = 1):  # noqa: ANN001, ANN202
    seen = [0]

    def match(event: Event) -> bool:
        if test(event):
            seen[0] += 1
            return seen[0] == n
        return False

    return match


def _ended(author: str, n: int = 1):  # noqa: ANN202
    return _nth(lambda e: e.author == author and bool(e.actions.end_of_agent), n)


def _result(author: str, tool: str, n: int = 1):  # noqa: ANN202
    return _nth(lambda e: e.author == author and tool in [r.name for r in e.get_function_responses()], n)


def _answered(author: str, n: int = 1):  # noqa: ANN202
    return _nth(lambda e: e.author == author and e.is_final_response() and bool(e.content and e.content.parts and e.content.parts[0].text), n)


KILL_POINTS = {
    "greeter ended": _ended("greeter"),
    "researcher ended": _ended("researcher"),
    "screenwriter answered": _answered("screenwriter"),
    "critic ended round 1": _ended("critic"),
    "round 2 search result": _result("researcher", "wikipedia_search", 2),
    "critic exited the loop": _result("critic", "exit_loop"),
    "critic ended round 2": _ended("critic", 2),
    "writers room ended": _ended("writers_room"),
    "box office ended": _ended("box_office_researcher"),
    "document saved": _result("file_writer", "save_pitch_document"),
    "file writer answered": _answered("file_writer"),
}


@pytest.mark.parametrize("kill_point", list(KILL_POINTS))
async def test_a_resumed_run_goes_on_from_its_last_checkpoint_and_redoes_nothing(
    studio: Studio, monkeypatch: pytest.MonkeyPatch, kill_point: str
) -> None:
    """A process killed anywhere in the team: what the writer had committed 0.3 s later stays,
    the rest is lost; the resume answers exactly what the uninterrupted run answers, in the same
    rounds, and saves the document once."""
    from agente_films.runs.recorder import RunRecorder

    original = RunRecorder.on_event
    cut = KILL_POINTS[kill_point]

    async def die_soon_after(self, event):  # noqa: ANN001, ANN202
        await original(self, event)
        if not event.partial and cut(event):
            await asyncio.sleep(0.3)  # the writer commits whatever it may meanwhile
            self.writer._entries.clear()  # the rest is lost with the process
            self.writer._by_event.clear()
            raise asyncio.CancelledError

    row = await studio.create_session("local")
    monkeypatch.setattr(RunRecorder, "on_event", die_soon_after)
    run = await studio.runs.start(session_id=row.id, user_id="local", text="Ada Lovelace")
    await run.done.wait()
    monkeypatch.setattr(RunRecorder, "on_event", original)
    async with studio.sessionmaker.begin() as db:
        await QuestionRepository(db).finish(run.run_id, status="interrupted", error="killed")

    resumed = await studio.runs.resume(session_id=row.id, user_id="local", run_id=run.run_id)
    await resumed.done.wait()
    async with studio.sessionmaker() as db:
        question = await QuestionRepository(db).get(run.run_id, row.id)
        answers = await AnswerRepository(db).for_question(run.run_id)
        events = await AgentEventRepository(db).for_session(row.id, question_id=run.run_id)
    assert question.run_status == "completed"
    per_agent: dict[str, int] = {}
    for answer in answers:
        per_agent[answer.agent_name] = per_agent.get(answer.agent_name, 0) + 1
    assert per_agent == {
        "greeter": 1, "researcher": 2, "screenwriter": 2, "critic": 2,
        "box_office_researcher": 1, "casting_agent": 1, "file_writer": 1,
    }
    rounds = {e.event_data.get("iteration") for e in events if e.event_type == "agent_start" and e.agent_name != "writers_room" and e.event_data.get("parent") == "writers_room"}
    assert rounds <= {1, 2}, [(e.agent_name, e.event_type, e.event_data.get("iteration")) for e in events if e.event_type in ("agent_start", "agent_end")]
    keys = await studio.artifact_service.list_artifact_keys(app_name=APP_NAME, user_id="local", session_id=row.id)
    assert len(keys) == 1
    versions = await studio.artifact_service.list_artifact_versions(
        app_name=APP_NAME, user_id="local", session_id=row.id, filename=keys[0]
    )
    assert len(versions) == 1
