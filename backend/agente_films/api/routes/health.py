"""Health and what the server runs on (model, limits)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from agente_films import __version__
from agente_films.agents.team import AGENT_NAMES
from agente_films.api.deps import StudioDep
from agente_films.api.schemas import HealthOut, InfoOut
from agente_films.models import describe_models

router = APIRouter(tags=["health"])


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
