"""/livez and /readyz (in process, SQLite and PostgreSQL): live touches nothing but the process;
ready answers 200 on a migrated database and 503 naming what is wrong otherwise."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from agente_films.db.engine import migrate

Api = Callable[..., Awaitable[httpx.AsyncClient]]


async def test_livez_and_readyz_answer_ok_on_a_migrated_database(make_api: Api) -> None:
    client = await make_api(base_url="http://test")
    live = await client.get("/livez")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "status": "ok", "database": "ok", "redis": "not configured", "migrations": "ok", "failed": []
    }
    assert (await client.get("/health")).status_code == 200  # kept as it was


async def test_readyz_is_503_naming_migrations_when_the_schema_is_behind(make_api: Api) -> None:
    client = await make_api(base_url="http://test")
    await migrate(client.studio.engine, "0004", downgrade=True)  # type: ignore[attr-defined]
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not ready" and body["failed"] == ["migrations"]
    assert body["migrations"].startswith("at 0004") and body["database"] == "ok"
    # Liveness does not care: the pod is taken out of the Service, not restarted.
    assert (await client.get("/livez")).status_code == 200


async def test_readyz_is_503_naming_redis_when_redis_is_down(make_api: Api) -> None:
    client = await make_api(base_url="http://test", redis_url="redis://127.0.0.1:9/0")  # nothing listens on port 9
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["failed"] == ["redis"] and body["redis"].startswith("error")
    assert body["database"] == "ok" and body["migrations"] == "ok"
    assert (await client.get("/livez")).status_code == 200
