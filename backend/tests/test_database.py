"""Migrations and repositories on SQLite and on a real PostgreSQL database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from agente_films.db.engine import alembic_config, make_engine, make_sessionmaker, migrate
from agente_films.db.repositories import (
    AgentEventRepository,
    AnswerRepository,
    ProjectRepository,
    QuestionRepository,
    ReasoningRepository,
    SessionRepository,
    StateRepository,
)
from agente_films.db.tables import Base
from tests.conftest import create_pg_database, drop_pg_database, server_env

OUR_TABLES = {
    "studio_sessions", "film_projects", "questions", "answers",
    "inferential_reasoning", "session_states", "agent_events",
}


PG_ONLY_INDEXES = {"idx_session_states_jsonb", "idx_events_jsonb", "idx_projects_title_trgm"}


def meaningful(diff: list, dialect: str) -> list:
    """Autogenerate's differences, less two known blind spots: the GIN/trigram indexes exist only
    on PostgreSQL (created by the migration, not declared on the models), and SQLite's reflection
    cannot see DESC in an index, so a DESC index there shows up as removed and added again."""
    ops = [(op[0], getattr(op[1], "name", None)) for op in diff if isinstance(op, tuple)]
    readded = {name for kind, name in ops if kind == "add_index"} if dialect == "sqlite" else set()
    return [
        op for op, (kind, name) in zip(diff, ops, strict=True)
        if not (kind == "remove_index" and name in PG_ONLY_INDEXES) and name not in readded
    ]


async def test_migrations_create_the_schema_the_models_describe(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await migrate(engine)
        await migrate(engine)  # idempotent: a second `serve` start changes nothing

        async with engine.connect() as connection:
            tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
            indexes = await connection.run_sync(
                lambda c: {i["name"] for t in OUR_TABLES for i in inspect(c).get_indexes(t)}
            )
            # The models mirror the migrations exactly (what `alembic check` verifies).
            diff = await connection.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
        assert OUR_TABLES <= tables
        assert {"idx_sessions_created_at", "idx_questions_session_created", "idx_answers_session_created",
                "idx_events_agent_type", "idx_reasoning_agent"} <= indexes
        if engine.dialect.name == "postgresql":
            assert {"idx_session_states_jsonb", "idx_events_jsonb", "idx_projects_title_trgm"} <= indexes
        assert meaningful(diff, engine.dialect.name) == []

        await migrate(engine, "base", downgrade=True)
        async with engine.connect() as connection:
            left = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        assert not (OUR_TABLES & left)
    finally:
        await engine.dispose()


async def test_repositories_store_order_and_scope_rows(database_url: str) -> None:
    engine = make_engine(database_url)
    await migrate(engine)
    sessionmaker = make_sessionmaker(engine)
    try:
        async with sessionmaker.begin() as db:
            sessions = SessionRepository(db)
            for index in range(5):
                await sessions.create(session_id=f"00000000-0000-0000-0000-00000000000{index}", user_id="ana", title=f"s{index}", model="offline")
            await sessions.create(session_id="11111111-1111-1111-1111-111111111111", user_id="bob", title="bob's", model="offline")

        async with sessionmaker() as db:
            sessions = SessionRepository(db)
            page, total = await sessions.list("ana", limit=2, offset=0)
            rest, _ = await sessions.list("ana", limit=10, offset=2)
            assert total == 5 and [s.title for s in page] == ["s4", "s3"]  # newest first
            assert [s.title for s in rest] == ["s2", "s1", "s0"]
            assert await sessions.get("11111111-1111-1111-1111-111111111111", "ana") is None  # not hers

        session_id = "00000000-0000-0000-0000-000000000001"
        async with sessionmaker.begin() as db:
            project = await ProjectRepository(db).create(session_id=session_id, user_id="ana", title="T", subject="Ada")
            question = await QuestionRepository(db).create(session_id=session_id, text="Ada", project_id=project.id)
            reasoning = ReasoningRepository(db)
            common = {"session_id": session_id, "question_id": question.id}
            first = await reasoning.create(**common, agent_name="researcher", reasoning_type="tool_call", reasoning_text="search", event_id="e1")
            other = await reasoning.create(**common, agent_name="critic", reasoning_type="tool_call", reasoning_text="x", event_id="e2")
            answer = await AnswerRepository(db).create(**common, agent_name="researcher", answer_text="found", event_id="e3")
            await reasoning.link_to_answer(question_id=question.id, agent_name="researcher", answer_id=answer.id)
            states = StateRepository(db)
            for version in (1, 2):
                await states.create(session_id=session_id, version=version, changed_keys=["PROMPT"], state_value={"PROMPT": f"v{version}"})
            await AgentEventRepository(db).create(**common, event_id="e1", agent_name="researcher", event_type="tool_call", event_data={"k": [1, 2]})

        async with sessionmaker() as db:
            rows = await ReasoningRepository(db).for_session(session_id)
            assert [(r.id, r.answer_id) for r in rows] == [(first.id, answer.id), (other.id, None)]
            assert await StateRepository(db).latest_version(session_id) == 2
            assert (await StateRepository(db).get(session_id, 1)).state_value == {"PROMPT": "v1"}
            events = await AgentEventRepository(db).for_session(session_id)
            assert events[0].event_data == {"k": [1, 2]}

        async with sessionmaker.begin() as db:
            await SessionRepository(db).delete(session_id)
        async with sessionmaker() as db:
            for table in OUR_TABLES:
                column = "id" if table == "studio_sessions" else "session_id"
                count = await db.scalar(text(f"SELECT count(*) FROM {table} WHERE {column} = :id"), {"id": session_id})
                assert count == 0, table
            assert (await SessionRepository(db).list("ana", limit=10, offset=0))[1] == 4
    finally:
        await engine.dispose()


async def test_sqlite_transactions_that_read_then_write_wait_for_each_other(tmp_path) -> None:  # noqa: ANN001
    """On SQLite a deferred transaction that read before another one committed cannot write
    ("database is locked", at once); ours begin IMMEDIATE, so concurrent ones queue and all commit."""
    import asyncio

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'locks.db'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE counter (n INTEGER)"))

        async def read_then_write(n: int) -> None:
            async with engine.begin() as connection:
                await connection.execute(text("SELECT count(*) FROM counter"))
                await asyncio.sleep(0.05)  # the others read meanwhile
                await connection.execute(text("INSERT INTO counter VALUES (:n)"), {"n": n})

        await asyncio.gather(*(read_then_write(n) for n in range(5)))
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM counter"))).scalar() == 5
    finally:
        await engine.dispose()


async def test_processes_migrating_an_empty_postgresql_at_once_all_succeed(tmp_path: Path) -> None:
    """`agente-films migrate` (as every api pod runs at start-up) three times at once on an empty
    database, three rounds: all exit 0 (an advisory lock serialises them) and the schema is at head."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    for round_ in range(3):
        url = await create_pg_database()
        try:
            env = {**os.environ, **server_env(url, tmp_path)}
            processes = [
                subprocess.Popen(
                    [sys.executable, "-m", "agente_films.cli", "migrate"],
                    env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                )
                for _ in range(3)
            ]
            outputs = [process.communicate(timeout=120)[0].decode() for process in processes]
            for process, output in zip(processes, outputs, strict=True):
                assert process.returncode == 0, f"round {round_}: {output[-3000:]}"
            engine = make_engine(url)
            try:
                async with engine.connect() as connection:
                    current = await connection.run_sync(
                        lambda c: MigrationContext.configure(c).get_current_revision()
                    )
                    versions = (await connection.execute(text("SELECT count(*) FROM alembic_version"))).scalar()
            finally:
                await engine.dispose()
            assert current == head and versions == 1
        finally:
            await drop_pg_database(url)
