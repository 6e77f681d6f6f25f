"""The assembled app: engine, ADK runner and services, event bus, runs. Used by the API and the CLI."""

from __future__ import annotations

import logging
import shutil
import warnings
import uuid
from dataclasses import dataclass
from typing import Any

from google.adk.apps import App, ResumabilityConfig
from google.adk.artifacts import FileArtifactService
from google.adk.runners import Runner
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from agente_films.agents.team import APP_NAME, build_root_agent
from agente_films.cache import ResultCache, make_result_cache
from agente_films.db.engine import make_engine, make_sessionmaker, migrate
from agente_films.db.repositories import QuestionRepository, SessionRepository
from agente_films.db.tables import StudioSession
from agente_films.models import make_model_resolver
from agente_films.runs.bus import EventBus, MemoryEventBus
from agente_films.runs.manager import RunManager
from agente_films.runs.recorder import RecordingSessionService, StepPlugin
from agente_films.settings import Settings
from agente_films.tools.wikipedia import WikipediaClient, make_wikipedia_client, make_wikipedia_tool

log = logging.getLogger(__name__)

# Resumability is marked experimental in ADK 2.13; we rely on it knowingly for resuming runs.
warnings.filterwarnings("ignore", message=r"\[EXPERIMENTAL\] ResumabilityConfig", category=UserWarning)

INTERRUPTED = "The server stopped while this run was in progress; send the message again to retry."


@dataclass
class Studio:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker
    session_service: RecordingSessionService
    artifact_service: FileArtifactService
    runner: Runner
    bus: EventBus
    runs: RunManager
    cache: ResultCache
    wikipedia: WikipediaClient

    @classmethod
    async def open(cls, settings: Settings, *, run_migrations: bool = True) -> Studio:
        engine = make_engine(settings.database_url)
        if run_migrations:
            await migrate(engine)
        sessionmaker = make_sessionmaker(engine)
        cache = make_result_cache(settings)
        wikipedia = make_wikipedia_client(settings, cache)
        root_agent = build_root_agent(
            settings, make_model_resolver(settings), make_wikipedia_tool(wikipedia)
        )
        session_service = RecordingSessionService(db_engine=engine)
        artifact_service = FileArtifactService(settings.artifacts_dir)
        runner = Runner(
            app=App(
                name=APP_NAME,
                root_agent=root_agent,
                plugins=[StepPlugin()],
                # ADK checkpoints each agent's progress, so an interrupted run can be resumed.
                resumability_config=ResumabilityConfig(is_resumable=True),
            ),
            session_service=session_service,
            artifact_service=artifact_service,
        )
        bus = MemoryEventBus()
        studio = cls(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            session_service=session_service,
            artifact_service=artifact_service,
            runner=runner,
            bus=bus,
            runs=RunManager(runner=runner, sessionmaker=sessionmaker, bus=bus, settings=settings),
            cache=cache,
            wikipedia=wikipedia,
        )
        await studio._recover_interrupted_runs()
        return studio

    async def close(self) -> None:
        await self.runs.shutdown()
        await self.wikipedia.aclose()
        await self.cache.close()
        await self.engine.dispose()

    async def _recover_interrupted_runs(self) -> None:
        # One process owns every run in embedded mode: a run still "running" at start-up died
        # with the previous process. Mark it, so that nobody waits for it forever.
        async with self.sessionmaker.begin() as db:
            count = await QuestionRepository(db).mark_running_as("interrupted", INTERRUPTED)
            await SessionRepository(db).mark_running_as("interrupted")
        if count:
            log.warning("marked %d run(s) interrupted by the previous shutdown", count)

    async def create_session(self, user_id: str, title: str | None = None) -> StudioSession:
        session_id = str(uuid.uuid4())
        await self.session_service.create_session(app_name=APP_NAME, user_id=user_id, session_id=session_id)
        async with self.sessionmaker.begin() as db:
            return await SessionRepository(db).create(
                session_id=session_id,
                user_id=user_id,
                title=title or "New pitch",
                model=self.settings.llm_model,
            )

    async def delete_session(self, row: StudioSession) -> None:
        """Removes the session's rows, its ADK session and events, and its pitch documents."""
        await self.runs.cancel(row.id)
        async with self.sessionmaker.begin() as db:
            await SessionRepository(db).delete(row.id)
        await self.session_service.delete_session(app_name=APP_NAME, user_id=row.user_id, session_id=row.id)
        session_dir = (
            self.artifact_service.root_dir / "apps" / APP_NAME / "users" / row.user_id / "sessions" / row.id
        )
        shutil.rmtree(session_dir, ignore_errors=True)
        await self.bus.forget(row.id)

    async def redis_status(self) -> str:
        from redis.asyncio import Redis

        client = Redis.from_url(self.settings.redis_url, socket_timeout=1, socket_connect_timeout=1)
        try:
            await client.ping()
            return "ok"
        except Exception as exc:  # reported by /health, never raised
            return f"error: {type(exc).__name__}: {exc}"[:200]
        finally:
            await client.aclose()

    async def adk_state(self, row: StudioSession) -> dict[str, Any]:
        session = await self.session_service.get_session(
            app_name=APP_NAME, user_id=row.user_id, session_id=row.id
        )
        return dict(session.state) if session else {}
