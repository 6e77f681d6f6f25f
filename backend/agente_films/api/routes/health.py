"""Health and what the server runs on (model, limits)."""

from __future__ import annotations

import asyncio
from functools import cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from agente_films import __version__
from agente_films.agents.team import AGENT_NAMES
from agente_films.api.deps import StudioDep
from agente_films.api.schemas import HealthOut, InfoOut, LiveOut, ReadyOut
from agente_films.db.engine import alembic_config
from agente_films.models import describe_models

router = APIRouter(tags=["health"])

READY_DATABASE_TIMEOUT_SECONDS = 2.0


@cache
def _script_heads() -> tuple[str, ...]:
    return tuple(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
async def health(studio: StudioDep) -> JSONResponse:
    try:
        async with studio.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # report, don't raise: this is what a load balancer polls
        database = f"error: {type(exc).__name__}"
    redis = "not configured"
    if studio.settings.redis_url:
        redis = await studio.redis_status()
    healthy = database == "ok" and redis in ("ok", "not configured")
    body = HealthOut(
        status="ok" if healthy else "degraded", database=database, redis=redis, model=studio.settings.llm_model
    )
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)


@router.get("/livez", response_model=LiveOut)
async def livez() -> LiveOut:
    """The process is up and answering (the liveness and startup probes): touches nothing else, so
    a database or Redis blip restarts no pod."""
    return LiveOut(status="ok")


@router.get("/readyz", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
async def readyz(studio: StudioDep) -> JSONResponse:
    """Ready for traffic (the readiness probe): the database answers within a short timeout, Redis
    too when configured, and the database's schema is at the migrations' head."""
    database, migrations = "ok", "ok"

    async def check_database() -> tuple[str, ...]:
        async with studio.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            current = await connection.run_sync(lambda c: MigrationContext.configure(c).get_current_heads())
        return tuple(sorted(current))

    try:
        current = await asyncio.wait_for(check_database(), timeout=READY_DATABASE_TIMEOUT_SECONDS)
    except Exception as exc:  # report, don't raise: this is what the orchestrator polls
        database = f"error: {type(exc).__name__}"[:200]
        migrations = "unknown: database not reachable"
    else:
        head = _script_heads()
        if current != head:
            migrations = f"at {', '.join(current) or 'none'}, head is {', '.join(head)}"
    redis = "not configured"
    if studio.settings.redis_url:
        redis = await studio.redis_status()
    failed = [
        name for name, value in (("database", database), ("redis", redis), ("migrations", migrations))
        if value not in ("ok", "not configured")
    ]
    body = ReadyOut(
        status="not ready" if failed else "ok", database=database, redis=redis, migrations=migrations, failed=failed
    )
    return JSONResponse(body.model_dump(), status_code=503 if failed else 200)


@router.get("/api/v1/info")
async def info(studio: StudioDep) -> InfoOut:
    models = describe_models(studio.settings)
    return InfoOut(
        version=__version__,
        models=models,
        offline=bool(models["offline"]),
        max_message_chars=studio.settings.max_message_chars,
        writers_room_max_iterations=studio.settings.writers_room_max_iterations,
        agents={
            "greeter": {
                "film_concept_team": {
                    "writers_room": ["researcher", "screenwriter", "critic"],
                    "preproduction_team": ["box_office_researcher", "casting_agent"],
                    "file_writer": None,
                }
            },
            "names": list(AGENT_NAMES),
        },
    )
