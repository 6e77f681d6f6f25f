"""/livez and /readyz (in process, SQLite and PostgreSQL): live touches nothing but the process;
ready answers 200 on a migrated database and 503 naming what is wrong otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from agente_films.api.app import create_app
from agente_films.db.engine import migrate
from agente_films.studio import Studio
from tests.conftest import attach_studio, make_settings

Api = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def make_api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    opened: list[tuple[Studio, httpx.AsyncClient]] = []

    async def make(**overrides: Any) -> httpx.AsyncClient:
        settings = make_settings(database_url, tmp_path, **overrides)
        app = create_app(settings)
        studio = await Studio.open(settings)
        attach_studio(app, studio)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        client.studio = studio  # type: ignore[attr-defined]
        opened.append((studio, client))
        return client

    yield make
    for studio, client in opened:
        await client.aclose()
        await studio.close()


async def test_livez_and_readyz_answer_ok_on_a_migrated_database(make_api: Api) -> None:
    client = await make_api()
    live = await client.get("/livez")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "status": "ok", "database": "ok", "redis": "not configured", "migrations": "ok", "failed": []
    }
    assert (await client.get("/health")).status_code == 200  # kept as it was


async def test_readyz_is_503_naming_migrations_when_the_schema_is_behind(make_api: Api) -> None:
    client = await make_api()
    await migrate(client.studio.engine, "0004", downgrade=True)  # type: ignore[attr-defined]
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not ready" and body["failed"] == ["migrations"]
    assert body["migrations"].startswith("at 0004") and body["database"] == "ok"
    # Liveness does not care: the pod is taken out of the Service, not restarted.
    assert (await client.get("/livez")).status_code == 200


async def test_readyz_is_503_naming_redis_when_redis_is_down(make_api: Api) -> None:
    client = await make_api(redis_url="redis://127.0.0.1:9/0")  # nothing listens on port 9
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["failed"] == ["redis"] and body["redis"].startswith("error")
    assert body["database"] == "ok" and body["migrations"] == "ok"
    assert (await client.get("/livez")).status_code == 200
