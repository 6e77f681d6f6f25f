"""The assembled app: engine, ADK runner and services, event bus, runs. Used by the API and the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import warnings
import uuid
from dataclasses import dataclass, field
from typing import Any

from google.adk.apps import App, ResumabilityConfig
from google.adk.artifacts import FileArtifactService
from google.adk.runners import Runner
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from agente_films import state_keys as keys
from agente_films.agents.team import APP_NAME, TEAM_AGENT, build_root_agent
from agente_films.cache import ResultCache, make_result_cache
from agente_films.db.engine import make_engine, make_sessionmaker, migrate
from agente_films.db.repositories import SessionRepository
from agente_films.db.tables import StudioSession
from agente_films.models import make_model_resolver
from agente_films.rate_limits import RateLimits
from agente_films.runs.bus import EventBus, LocalAnnouncer, MemoryEventBus, RedisEventBus
from agente_films.runs.locks import RedisRunLocks
from agente_films.runs.manager import RunManager
from agente_films.runs.plugin import StepPlugin
from agente_films.runs.revision_plugin import RevisionPlugin
from agente_films.retention import RetentionJob
from agente_films.runs.session_service import BatchingSessionService
from agente_films.settings import Settings
from agente_films.tools.wikipedia import WikipediaClient, make_wikipedia_client, make_wikipedia_tool

log = logging.getLogger(__name__)

# ADK suggests context caching whenever agents transfer; that is a Gemini feature, moot for the
# offline model and LiteLLM, so that one warning is dropped.
logging.getLogger("google_adk.google.adk.runners").addFilter(
    lambda record: "context_cache_config" not in record.getMessage()
)
# The producer's own state events (edits by hand, undos) have an author outside the agent tree on
# purpose: ADK's router passes over them when it picks who answers next, and warns each time.
logging.getLogger("google_adk.google.adk.agents._agent_router").addFilter(
    lambda record: f"unknown agent: {keys.PRODUCER}" not in record.getMessage()
)
# Resumability is marked experimental in ADK 2.13; we rely on it knowingly for resuming runs.
warnings.filterwarnings("ignore", message=r"\[EXPERIMENTAL\] ResumabilityConfig", category=UserWarning)



def make_redis(url: str) -> Any:
    from redis.asyncio import Redis

    # Short connect timeout: a dead Redis is reported (503, /health) instead of hanging requests.
    # The read timeout stays above the event bus's blocking XREAD (5 s).
    return Redis.from_url(
        url, socket_connect_timeout=2, socket_timeout=15, health_check_interval=10, max_connections=1000
    )


@dataclass
class Studio:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker
    session_service: BatchingSessionService
    artifact_service: FileArtifactService
    runner: Runner
    bus: EventBus
    runs: RunManager
    cache: ResultCache
    wikipedia: WikipediaClient
    announcer: LocalAnnouncer
    redis: Any = None
    # Requests, runs, sockets and sign-ins per address and user (api/rate_limits.py).
    limits: RateLimits | None = None
    # Archives and purges idle sessions every RETENTION_INTERVAL_SECONDS (retention.py).
    retention: RetentionJob = field(init=False)

    def __post_init__(self) -> None:
        self.retention = RetentionJob(self)

    @classmethod
    async def open(cls, settings: Settings, *, run_migrations: bool = True, background: bool = True) -> Studio:
        """The server's studio. background=False is for a one-off command beside a live server
        (`agente-films retention run`): no reaping of "running" runs (this process has none, so
        without Redis every live server's run would look dead), no run reaper, cancel listener
        or periodic retention task."""
        engine = make_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_seconds,
        )
        if run_migrations:
            await migrate(engine)
        sessionmaker = make_sessionmaker(engine)
        cache = make_result_cache(settings)
        wikipedia = make_wikipedia_client(settings, cache)
        root_agent = build_root_agent(
            settings, make_model_resolver(settings), make_wikipedia_tool(wikipedia)
        )
        session_service = BatchingSessionService(db_engine=engine)
        artifact_service = FileArtifactService(settings.artifacts_dir)
        runner = Runner(
            app=App(
                name=APP_NAME,
                root_agent=root_agent,
                # StepPlugin first: it passes over agents a resumed run finished before RevisionPlugin
                # looks at them.
                plugins=[
                    StepPlugin(settings.budget_per_session_usd, settings.budget_per_user_day_usd),
                    RevisionPlugin(root_agent=root_agent.name, team_agent=TEAM_AGENT),
                ],
                # ADK checkpoints each agent's progress, so an interrupted run can be resumed.
                resumability_config=ResumabilityConfig(is_resumable=True),
            ),
            session_service=session_service,
            artifact_service=artifact_service,
        )
        redis = make_redis(settings.redis_url) if settings.redis_url else None
        bus: EventBus = RedisEventBus(redis) if redis is not None else MemoryEventBus()
        locks = RedisRunLocks(redis, settings.run_lock_ttl_seconds) if redis is not None else None
        announcer = LocalAnnouncer()
        limits = RateLimits(settings, redis)
        studio = cls(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            session_service=session_service,
            artifact_service=artifact_service,
            runner=runner,
            bus=bus,
            runs=RunManager(
                runner=runner, sessionmaker=sessionmaker, bus=bus, settings=settings, locks=locks, redis=redis,
                announcer=announcer, admission=limits,
            ),
            announcer=announcer,
            cache=cache,
            wikipedia=wikipedia,
            redis=redis,
            limits=limits,
        )
        if background:
            await studio.runs.open()
            studio.retention.start()
        return studio

    async def close(self) -> None:
        await self.retention.stop()
        await self.runs.shutdown()
        await self.wikipedia.aclose()
        await self.cache.close()
        if self.limits is not None:
            await self.limits.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()

    async def create_session(
        self, user_id: str, title: str | None = None, session_id: str | None = None, *,
        title_set_by_user: bool = False,
    ) -> StudioSession:
        session_id = session_id or str(uuid.uuid4())
        scope = {"app_name": APP_NAME, "user_id": user_id, "session_id": session_id}
        await self.session_service.create_session(**scope)
        try:
            async with self.sessionmaker.begin() as db:
                return await SessionRepository(db).create(
                    session_id=session_id,
                    user_id=user_id,
                    title=title or "New pitch",
                    model=self.settings.llm_model,
                    title_set_by_user=title_set_by_user,
                )
        except BaseException:
            # Our row was refused (or the request went away): take ADK's session back too, so
            # that a failed create leaves no orphan row behind. Shielded: a second cancel must
            # not stop it halfway.
            with contextlib.suppress(Exception):
                await asyncio.shield(self.session_service.delete_session(**scope))
            raise

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
        try:
            await asyncio.wait_for(self.redis.ping(), timeout=2)
            return "ok"
        except Exception as exc:  # reported by /health, never raised
            return f"error: {type(exc).__name__}: {exc}"[:200]

    async def adk_events(self, row: StudioSession) -> list[Any]:
        session = await self.session_service.get_session(
            app_name=APP_NAME, user_id=row.user_id, session_id=row.id
        )
        return list(session.events) if session else []

    async def adk_state(self, row: StudioSession) -> dict[str, Any]:
        session = await self.session_service.get_session(
            app_name=APP_NAME, user_id=row.user_id, session_id=row.id
        )
        return dict(session.state) if session else {}
