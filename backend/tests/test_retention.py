"""Retention (seed 004, 5.5) with a controlled clock, on SQLite and PostgreSQL: idle sessions are
archived (read-only over REST, the socket and AG-UI; reads and downloads work; the owner can
unarchive), then purged as DELETE purges them; 0 turns a step off; a dry run changes nothing; one
instance at a time runs a pass; `agente-films retention run --dry-run` says what it would do."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from redis.asyncio import Redis
from sqlalchemy import func, select, update
from websockets.asyncio.client import connect

from agente_films.agents.team import APP_NAME
from agente_films.api.app import create_app
from agente_films.db.repositories import QuestionRepository
from agente_films.db.tables import (
    AgentEvent, Answer, FilmProject, InferentialReasoning, LlmUsage, Question, SessionState, StudioSession, as_utc,
)
from agente_films.errors import SessionArchived
from agente_films.retention import RetentionJob, decide
from agente_films.studio import Studio
from tests.conftest import (
    REDIS_URL, attach_studio, create_pg_database, drop_pg_database, make_settings, row_counts, server_env,
)
from tests.test_pipeline import WIKI, mock_wikipedia, run_message

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)  # the clock the tests hand the job
DAY = timedelta(days=1)


@pytest.fixture
async def api(studio: Studio):
    """The real app (routes, dependencies, error mapping) in process, on the test's studio."""
    app = create_app(studio.settings)
    attach_studio(app, studio)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost/api/v1") as client:
        yield client


async def pitched(studio: Studio, title: str = "Ada") -> str:
    """A session with a finished pitch: rows, ADK events and a document on disk."""
    row = await studio.create_session("local", title, title_set_by_user=True)
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        mock_wikipedia(router)
        await run_message(studio, row.id, "I'd like a film about Ada Lovelace")
    return row.id


async def idle_since(studio: Studio, session_id: str, moment: datetime) -> None:
    """Last activity at `moment`: what a session untouched since then looks like."""
    async with studio.sessionmaker.begin() as db:
        await db.execute(update(StudioSession).where(StudioSession.id == session_id).values(updated_at=moment))


async def session_row(studio: Studio, session_id: str) -> StudioSession | None:
    async with studio.sessionmaker() as db:
        return await db.get(StudioSession, session_id)


async def rows_of(studio: Studio, session_id: str) -> dict[str, int]:
    tables = (StudioSession, FilmProject, Question, Answer, InferentialReasoning, SessionState, AgentEvent, LlmUsage)
    async with studio.sessionmaker() as db:
        counts = {}
        for table in tables:
            column = table.id if table is StudioSession else table.session_id
            counts[table.__tablename__] = int(await db.scalar(select(func.count()).where(column == session_id)) or 0)
    return counts


def documents_dir(studio: Studio, session_id: str) -> Path:
    return Path(studio.settings.artifacts_dir) / "apps" / APP_NAME / "users" / "local" / "sessions" / session_id


async def adk_session(studio: Studio, session_id: str) -> Any:
    return await studio.session_service.get_session(app_name=APP_NAME, user_id="local", session_id=session_id)


# -- the rule ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("idle_days", "archived", "running", "archive_days", "purge_days", "expected"),
    [
        (89, False, False, 90, 180, None),
        (90, False, False, 90, 180, "archive"),
        (91, False, False, 90, 180, "archive"),
        (91, True, False, 90, 180, None),       # archived already: waits for the purge
        (179, True, False, 90, 180, None),
        (181, True, False, 90, 180, "purge"),
        (181, False, False, 90, 180, "purge"),  # never archived (archiving was off, or new rules)
        (400, False, True, 90, 180, None),      # a session with a run is left alone
        (91, False, False, 0, 180, None),       # 0: archiving off
        (181, False, False, 0, 180, "purge"),
        (181, False, False, 90, 0, "archive"),  # 0: purging off
        (5000, True, False, 90, 0, None),
        (5000, False, False, 0, 0, None),
    ],
)
def test_the_rule(idle_days: int, archived: bool, running: bool, archive_days: int, purge_days: int, expected: str | None) -> None:
    assert decide(
        updated_at=NOW - idle_days * DAY, archived=archived, running=running, now=NOW,
        archive_days=archive_days, purge_days=purge_days,
    ) == expected
    # SQLite hands back naive datetimes (UTC): the same answer.
    naive = (NOW - idle_days * DAY).replace(tzinfo=None)
    assert decide(updated_at=naive, archived=archived, running=running, now=NOW,
                  archive_days=archive_days, purge_days=purge_days) == expected


# -- the job ------------------------------------------------------------------------------------------


async def test_idle_91_days_is_archived_181_purged_and_fresh_sessions_untouched(studio: Studio) -> None:
    old = await pitched(studio, "Old")
    idle = await pitched(studio, "Idle")
    fresh = (await studio.create_session("local", "Fresh")).id
    await idle_since(studio, old, NOW - 181 * DAY)
    await idle_since(studio, idle, NOW - 91 * DAY)
    await idle_since(studio, fresh, NOW - 89 * DAY)
    assert documents_dir(studio, old).is_dir() and (await rows_of(studio, old))["agent_events"] > 0

    # A dry run says what it would do and changes nothing.
    before = await row_counts(studio)
    plan = await studio.retention.run(now=NOW, dry_run=True)
    assert plan.ran and plan.dry_run
    assert [(s.session_id, s.title, s.idle_days) for s in plan.archived] == [(idle, "Idle", 91)]
    assert [(s.session_id, s.title, s.idle_days) for s in plan.purged] == [(old, "Old", 181)]
    assert await row_counts(studio) == before
    assert (await session_row(studio, idle)).archived_at is None
    assert documents_dir(studio, old).is_dir() and await adk_session(studio, old) is not None

    done = await studio.retention.run(now=NOW)
    assert [s.session_id for s in done.archived] == [idle] and [s.session_id for s in done.purged] == [old]
    assert "archived 1, purged 1" in done.summary()

    # Purged exactly as DELETE purges: every row, the ADK session and events, the documents.
    assert set((await rows_of(studio, old)).values()) == {0}
    assert await adk_session(studio, old) is None
    assert not documents_dir(studio, old).exists()

    # Archived: marked, everything kept, and the idle clock not restarted by archiving.
    row = await session_row(studio, idle)
    assert as_utc(row.archived_at) == NOW and as_utc(row.updated_at) == NOW - 91 * DAY
    assert (await rows_of(studio, idle))["agent_events"] > 0 and documents_dir(studio, idle).is_dir()

    untouched = await session_row(studio, fresh)
    assert untouched.archived_at is None and as_utc(untouched.updated_at) == NOW - 89 * DAY

    # Nothing more to do at the same moment; 90 days on, the archived one is purged and the
    # fresh one archived.
    again = await studio.retention.run(now=NOW)
    assert (again.archived, again.purged) == ([], [])
    later = await studio.retention.run(now=NOW + 90 * DAY)
    assert [s.session_id for s in later.purged] == [idle] and [s.session_id for s in later.archived] == [fresh]
    assert await session_row(studio, idle) is None and not documents_dir(studio, idle).exists()


@pytest.mark.parametrize(
    ("archive_days", "purge_days", "archived", "purged"),
    [(0, 180, [], ["old"]), (90, 0, ["idle", "old"], []), (0, 0, [], [])],
)
async def test_zero_turns_a_step_off(
    database_url: str, tmp_path: Path, archive_days: int, purge_days: int, archived: list[str], purged: list[str]
) -> None:
    settings = make_settings(
        database_url, tmp_path, retention_archive_days=archive_days, retention_purge_days=purge_days,
    )
    studio = await Studio.open(settings)
    try:
        # Both off: no periodic task at all.
        assert (studio.retention._task is None) == (archive_days == purge_days == 0)
        ids = {}
        for name, days in (("old", 181), ("idle", 91)):
            ids[name] = (await studio.create_session("local", name)).id
            await idle_since(studio, ids[name], NOW - days * DAY)
        report = await studio.retention.run(now=NOW)
        assert sorted(s.title for s in report.archived) == archived
        assert sorted(s.title for s in report.purged) == purged
        for name, session_id in ids.items():
            row = await session_row(studio, session_id)
            assert (row is None) == (name in purged)
            assert row is None or (row.archived_at is not None) == (name in archived)
    finally:
        await studio.close()


async def test_a_session_with_a_run_is_never_archived(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path, wikipedia_base_url=WIKI, offline_chunk_delay_ms=20)
    studio = await Studio.open(settings)
    app = create_app(settings)
    attach_studio(app, studio)
    try:
        row = await studio.create_session("local", "Busy")
        run = await studio.runs.start(session_id=row.id, user_id="local", text="Ada Lovelace")
        await idle_since(studio, row.id, NOW - 400 * DAY)  # as if the clock said so
        report = await studio.retention.run(now=NOW)
        assert (report.archived, report.purged) == ([], [])
        assert (await session_row(studio, row.id)).archived_at is None
        # The owner cannot archive it by hand either: 409 while the run works.
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost/api/v1") as api:
            refused = await api.post(f"/sessions/{row.id}/archive")
            assert refused.status_code == 409 and refused.json()["code"] == "run_in_progress", refused.text
            assert refused.json()["run_id"] == run.run_id
        assert (await session_row(studio, row.id)).archived_at is None
        await studio.runs.cancel(row.id)
    finally:
        await studio.close()


async def test_runs_notes_edits_and_renames_restart_the_idle_clock(studio: Studio, api: httpx.AsyncClient) -> None:
    session_id = await pitched(studio)
    long_ago = datetime.now(UTC) - 200 * DAY

    async def restarted() -> bool:
        return as_utc((await session_row(studio, session_id)).updated_at) > datetime.now(UTC) - timedelta(minutes=5)

    await idle_since(studio, session_id, long_ago)
    assert not await restarted()
    assert (await api.patch(f"/sessions/{session_id}", json={"title": "Renamed"})).status_code == 200
    assert await restarted()

    await idle_since(studio, session_id, long_ago)
    state = (await api.get(f"/sessions/{session_id}/state")).json()
    edited = await api.patch(f"/sessions/{session_id}/state", json={
        "expected_version": state["version"], "changes": {"direction": "dark"},
    })
    assert edited.status_code == 200, edited.text
    assert await restarted()

    await idle_since(studio, session_id, long_ago)
    await studio.runs.add_note(session_id=session_id, user_id="local", run_id=None, text="Act II drags")
    assert await restarted()

    await idle_since(studio, session_id, long_ago)
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        mock_wikipedia(router)
        await run_message(studio, session_id, "hello")
    assert await restarted()


async def test_a_big_backlog_goes_in_batches(studio: Studio) -> None:
    ids = []
    for n in range(7):
        ids.append((await studio.create_session("local", f"s{n}")).id)
        await idle_since(studio, ids[-1], NOW - (91 + n) * DAY)
    job = RetentionJob(studio, batch_size=3)
    plan = await job.run(now=NOW, dry_run=True)
    assert sorted(s.session_id for s in plan.archived) == sorted(ids)
    report = await job.run(now=NOW)
    assert sorted(s.session_id for s in report.archived) == sorted(ids)
    assert all([(await session_row(studio, sid)).archived_at is not None for sid in ids])
    # Batches of 3 (7 = 3 + 3 + 1), each one its own query.
    seen = []
    original = job._candidates

    async def counting(cutoff, after):  # noqa: ANN001
        rows = await original(cutoff, after)
        seen.append(len(rows))
        return rows

    job._candidates = counting  # type: ignore[method-assign]
    await job.run(now=NOW + 100 * DAY)
    assert seen == [3, 3, 1]
    assert all([await session_row(studio, sid) is None for sid in ids])


async def test_the_periodic_pass_runs_and_stops_with_the_studio(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path, retention_interval_seconds=0.1)
    studio = await Studio.open(settings)
    try:
        session_id = (await studio.create_session("local", "Idle")).id
        await idle_since(studio, session_id, datetime.now(UTC) - 91 * DAY)
        async with asyncio.timeout(10):
            while (await session_row(studio, session_id)).archived_at is None:
                await asyncio.sleep(0.05)
        task = studio.retention._task
        assert task is not None and not task.done()
    finally:
        await studio.close()
    assert task.done() and studio.retention._task is None


# -- archived = read-only ------------------------------------------------------------------------------


async def test_an_archived_session_refuses_every_change_with_423_and_serves_reads(
    studio: Studio, api: httpx.AsyncClient
) -> None:
    session_id = await pitched(studio)
    project = (await api.post("/projects", json={"session_id": session_id, "title": "Ada", "subject": "Ada"})).json()
    run_id = (await api.get(f"/sessions/{session_id}/history")).json()["items"][-1]["question"]["id"]
    version = (await api.get(f"/sessions/{session_id}/state")).json()["version"]

    archived = await api.post(f"/sessions/{session_id}/archive")
    assert archived.status_code == 200 and archived.json()["archived_at"] is not None
    assert (await api.post(f"/sessions/{session_id}/archive")).json()["archived_at"] == archived.json()["archived_at"]
    listed = (await api.get("/sessions")).json()["items"]
    assert [s["archived_at"] for s in listed if s["id"] == session_id] == [archived.json()["archived_at"]]

    before = await row_counts(studio)
    changes = [
        ("POST", f"/sessions/{session_id}/messages", {"content": "make it darker"}),
        ("POST", f"/sessions/{session_id}/messages", {"content": "Marie Curie"}),
        ("POST", f"/sessions/{session_id}/messages/async", {"content": "make it darker"}),
        ("POST", f"/sessions/{session_id}/regenerate", {"stage": "casting"}),
        ("POST", f"/sessions/{session_id}/runs/{run_id}/resume", None),
        ("PATCH", f"/sessions/{session_id}/state", {"expected_version": version, "changes": {"direction": "dark"}}),
        ("POST", f"/sessions/{session_id}/undo", None),
        ("PATCH", f"/sessions/{session_id}", {"title": "Renamed"}),
        ("POST", "/projects", {"session_id": session_id, "title": "Another", "subject": "Marie Curie"}),
        ("PUT", f"/projects/{project['id']}", {"title": "Renamed"}),
        ("DELETE", f"/projects/{project['id']}", None),
        ("POST", "/agui", {"threadId": session_id, "runId": "r", "messages": [{"id": "m", "role": "user", "content": "Marie Curie"}],
                           "state": {}, "tools": [], "context": [], "forwardedProps": {}}),
    ]
    for method, path, body in changes:
        response = await api.request(method, path, json=body)
        assert response.status_code == 423, (method, path, response.status_code, response.text)
        assert response.json()["code"] == "archived" and "unarchive" in response.json()["detail"], path
    # Cancel has nothing to stop: no run can work in an archived session.
    assert (await api.post(f"/sessions/{session_id}/cancel")).status_code == 409
    assert await row_counts(studio) == before
    assert (await session_row(studio, session_id)).title == "Ada"

    # Every transport's runs are refused where they claim the session (the socket's and AG-UI's too).
    for attempt in (
        studio.runs.say(session_id=session_id, user_id="local", text="Marie Curie"),
        studio.runs.start(session_id=session_id, user_id="local", text="Marie Curie"),
        studio.runs.regenerate(session_id=session_id, user_id="local", stage="casting"),
    ):
        with pytest.raises(SessionArchived):
            await attempt
    assert await studio.runs.active_run_id(session_id) is None

    # Reads and downloads work.
    pitches = (await api.get(f"/sessions/{session_id}/pitches")).json()
    assert pitches, "the pitch has a document"
    filename = pitches[0]["filename"]
    for path in (
        f"/sessions/{session_id}", f"/sessions/{session_id}/state", f"/sessions/{session_id}/states",
        f"/sessions/{session_id}/history", f"/sessions/{session_id}/timeline", f"/sessions/{session_id}/events",
        f"/sessions/{session_id}/usage", f"/sessions/{session_id}/drafts", f"/sessions/{session_id}/runs/{run_id}",
        f"/sessions/{session_id}/pitches/{filename}", f"/sessions/{session_id}/pitches/{filename}?format=pdf",
        f"/sessions/{session_id}/branches", f"/projects/{project['id']}",
    ):
        response = await api.get(path)
        assert response.status_code == 200, (path, response.text)
    assert (await api.get(f"/sessions/{session_id}/pitches/{filename}?format=pdf")).content.startswith(b"%PDF")

    # Branching from it is allowed: a new, active session.
    branch = await api.post(f"/sessions/{session_id}/branches", json={"from_version": version})
    assert branch.status_code == 201, branch.text
    assert branch.json()["archived_at"] is None
    assert (await api.patch(f"/sessions/{branch.json()['id']}", json={"title": "Branch"})).status_code == 200

    # Unarchived: active again, its idle clock restarted, changes accepted.
    await idle_since(studio, session_id, datetime.now(UTC) - 100 * DAY)
    unarchived = await api.post(f"/sessions/{session_id}/unarchive")
    assert unarchived.status_code == 200 and unarchived.json()["archived_at"] is None
    assert as_utc((await session_row(studio, session_id)).updated_at) > datetime.now(UTC) - timedelta(minutes=5)
    report = await studio.retention.run()  # the real clock: 100 days no longer count
    assert session_id not in [s.session_id for s in report.archived]
    assert (await api.patch(f"/sessions/{session_id}", json={"title": "Renamed"})).json()["title"] == "Renamed"
    assert (await session_row(studio, session_id)).archived_at is None


async def test_an_archived_session_can_be_deleted(studio: Studio, api: httpx.AsyncClient) -> None:
    session_id = await pitched(studio)
    assert (await api.post(f"/sessions/{session_id}/archive")).status_code == 200
    assert (await api.delete(f"/sessions/{session_id}")).status_code == 204
    assert set((await rows_of(studio, session_id)).values()) == {0}
    assert not documents_dir(studio, session_id).exists()
    assert (await api.post(f"/sessions/{session_id}/unarchive")).status_code == 404


async def test_the_socket_answers_a_message_to_an_archived_session_with_an_error_frame(
    database_url: str, start_server
) -> None:  # noqa: ANN001
    server = start_server(database_url)
    async with httpx.AsyncClient(base_url=f"{server.url}/api/v1", timeout=30) as api:
        session_id = (await api.post("/sessions", json={"title": "Ada"})).json()["id"]
        assert (await api.post(f"/sessions/{session_id}/archive")).status_code == 200
        async with connect(f"{server.ws_url}/api/v1/ws/{session_id}") as socket:
            hello = json.loads(await socket.recv())
            assert hello["control"] == "hello"
            await socket.send(json.dumps({"type": "message", "content": "I'd like a film about Ada Lovelace"}))
            error = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert (error["control"], error["code"], error["status"]) == ("error", "archived", 423)
            assert "unarchive" in error["message"]
            await socket.send(json.dumps({"type": "ping"}))  # the socket stays open
            assert json.loads(await asyncio.wait_for(socket.recv(), 10))["control"] == "pong"

            assert (await api.post(f"/sessions/{session_id}/unarchive")).status_code == 200
            await socket.send(json.dumps({"type": "message", "content": "I'd like a film about Ada Lovelace"}))
            async with asyncio.timeout(30):
                while (frame := json.loads(await socket.recv())).get("type") != "RUN_STARTED":
                    assert frame.get("control") != "error", frame
        history = (await api.get(f"/sessions/{session_id}/history")).json()["items"]
        assert len(history) == 1  # the refused message left nothing behind


# -- one instance at a time --------------------------------------------------------------------------


async def test_two_instances_on_postgresql_never_run_a_pass_at_once(tmp_path: Path) -> None:
    """The advisory lock."""
    await two_instances(tmp_path)


async def test_two_instances_with_redis_never_run_a_pass_at_once(redis: Redis, tmp_path: Path) -> None:
    """The Redis lock (SET NX PX), which replaces the advisory lock when REDIS_URL is set."""
    await redis.delete("agente_films:retention")
    await two_instances(tmp_path, redis_url=REDIS_URL)


async def two_instances(tmp_path: Path, **extra: Any) -> None:
    url = await create_pg_database()
    a = await Studio.open(make_settings(url, tmp_path / "a", **extra))
    b = await Studio.open(make_settings(url, tmp_path / "b", **extra))
    try:
        ids = []
        for n in range(5):
            ids.append((await a.create_session("local", f"s{n}")).id)
            await idle_since(a, ids[-1], NOW - 91 * DAY)

        async with a.retention.lock.hold() as got:
            assert got
            skipped = await b.retention.run(now=NOW)
            assert not skipped.ran and (skipped.archived, skipped.purged) == ([], [])
            assert "another instance" in skipped.summary()
            assert all([(await session_row(a, sid)).archived_at is None for sid in ids])
            again = await a.retention.run(now=NOW)  # the same instance does not start a second pass
            assert not again.ran

        # Released: B runs it. Then both at once: each session is handled once, by one of them.
        assert sorted(s.session_id for s in (await b.retention.run(now=NOW, dry_run=True)).archived) == sorted(ids)
        both = await asyncio.gather(a.retention.run(now=NOW + 90 * DAY), b.retention.run(now=NOW + 90 * DAY))
        purged = [s.session_id for report in both for s in report.purged]
        assert sorted(purged) == sorted(ids)
        assert all([await session_row(a, sid) is None for sid in ids])
    finally:
        await a.close()
        await b.close()
        await drop_pg_database(url)


# -- the CLI ------------------------------------------------------------------------------------------


def cli(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **server_env(database_url, tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "agente_films.cli", "retention", "run", *args],
        env=env, capture_output=True, text=True, timeout=120,
    )


async def test_the_cli_dry_run_says_what_it_would_do_and_changes_nothing(studio: Studio, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    idle = (await studio.create_session("local", "Quiet pitch")).id
    old = (await studio.create_session("local", "Forgotten pitch")).id
    fresh = (await studio.create_session("local", "Fresh pitch")).id
    await idle_since(studio, idle, now - 91 * DAY - timedelta(hours=1))
    await idle_since(studio, old, now - 181 * DAY - timedelta(hours=1))
    before = await row_counts(studio)

    dry = await asyncio.to_thread(cli, studio.settings.database_url, tmp_path, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    out = dry.stdout
    assert "RETENTION_ARCHIVE_DAYS=90 RETENTION_PURGE_DAYS=180" in out
    assert "would archive 1, would purge 1 session(s)" in out
    assert f"would archive {idle} 'Quiet pitch' (user local, idle 91 days)" in out
    assert f"would purge {old} 'Forgotten pitch' (user local, idle 181 days)" in out
    assert fresh not in out
    assert await row_counts(studio) == before
    assert (await session_row(studio, idle)).archived_at is None

    done = await asyncio.to_thread(cli, studio.settings.database_url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "archived 1, purged 1 session(s)" in done.stdout and f"purged {old}" in done.stdout
    assert await session_row(studio, old) is None
    assert (await session_row(studio, idle)).archived_at is not None
    assert (await session_row(studio, fresh)).archived_at is None


async def database_snapshot(studio: Studio) -> dict[str, Any]:
    """Every session's status, archive mark and clock, and every run's status: what a pass that
    must change nothing has to leave exactly as it was."""
    async with studio.sessionmaker() as db:
        sessions = (await db.execute(
            select(StudioSession.id, StudioSession.status, StudioSession.archived_at, StudioSession.updated_at)
        )).all()
        questions = (await db.execute(select(Question.id, Question.run_status, Question.run_error))).all()
    return {"sessions": sorted(map(tuple, sessions)), "questions": sorted(map(tuple, questions))}


async def running_elsewhere(studio: Studio, title: str, *, session_status: str = "running") -> tuple[str, str]:
    """A session whose run a live server (another process, no Redis) is running: the database
    says so, and nothing in the CLI's own process knows of it. `session_status` "idle": an edit's
    run (it marks only its question running)."""
    session_id = (await studio.create_session("local", title)).id
    async with studio.sessionmaker.begin() as db:
        question = await QuestionRepository(db).create(session_id=session_id, text="Ada Lovelace", project_id=None)
        await db.execute(update(StudioSession).where(StudioSession.id == session_id).values(status=session_status))
    return session_id, question.id


async def test_the_cli_leaves_a_live_servers_runs_alone(studio: Studio, tmp_path: Path) -> None:
    """`retention run` beside a running server (no Redis): the dry run changes nothing at all (no
    run marked interrupted, no background pass), and the real run archives and purges what is
    idle but never a session the database says is running, however long it looks idle."""
    now = datetime.now(UTC)
    busy, busy_run = await running_elsewhere(studio, "Busy pitch")
    editing, edit_run = await running_elsewhere(studio, "Edited pitch", session_status="idle")
    idle = (await studio.create_session("local", "Quiet pitch")).id
    for session_id in (busy, editing):
        await idle_since(studio, session_id, now - 400 * DAY)
    await idle_since(studio, idle, now - 91 * DAY - timedelta(hours=1))
    before, snapshot = await row_counts(studio), await database_snapshot(studio)

    dry = await asyncio.to_thread(cli, studio.settings.database_url, tmp_path, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would archive 1, would purge 0 session(s)" in dry.stdout and idle in dry.stdout
    assert busy not in dry.stdout and editing not in dry.stdout
    assert await row_counts(studio) == before
    assert await database_snapshot(studio) == snapshot  # statuses, archive marks, clocks, runs

    done = await asyncio.to_thread(cli, studio.settings.database_url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "archived 1, purged 0 session(s)" in done.stdout
    assert (await session_row(studio, idle)).archived_at is not None
    after = await database_snapshot(studio)
    assert [s for s in after["sessions"] if s[0] != idle] == [s for s in snapshot["sessions"] if s[0] != idle]
    assert after["questions"] == snapshot["questions"]  # both runs still "running", not interrupted
    assert {busy_run, edit_run} <= {q[0] for q in after["questions"] if q[1] == "running"}


async def test_a_run_never_starts_on_a_session_archived_by_another_process(studio: Studio) -> None:
    """The CLI archives a session in the database while a server's run has claimed it but not yet
    marked it running: the run is refused (423), as if the archive had come first."""
    row = await studio.create_session("local", "Raced")
    original = studio.runs._refuse_archived

    async def archived_right_after_the_look(session_id: str) -> None:
        await original(session_id)  # not archived when the run looked...
        async with studio.sessionmaker.begin() as db:  # ...archived by the CLI just after
            await db.execute(update(StudioSession).where(StudioSession.id == session_id).values(archived_at=NOW))

    studio.runs._refuse_archived = archived_right_after_the_look  # type: ignore[method-assign]
    with pytest.raises(SessionArchived):
        await studio.runs.start(session_id=row.id, user_id="local", text="Ada Lovelace")
    assert studio.runs.active(row.id) is None
    fresh = await session_row(studio, row.id)
    assert fresh.status == "idle" and fresh.archived_at is not None
    async with studio.sessionmaker() as db:
        assert await db.scalar(select(func.count()).where(Question.session_id == row.id)) == 0
