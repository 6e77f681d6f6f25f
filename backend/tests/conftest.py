"""Shared fixtures: throwaway databases (SQLite files and real PostgreSQL databases), settings, and
a real uvicorn server process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from agente_films.settings import Settings

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = "redis://127.0.0.1:6379/14"
# Nothing listens on port 9: Wikipedia calls fail at once, and the agents carry on without it.
DEAD_WIKIPEDIA = "http://127.0.0.1:9"
# A Wikipedia that tests stub with respx (test_pipeline.mock_wikipedia).
WIKI = "https://wiki.test"
TEST_SECRET_KEY = "tests-only-secret-key-not-for-production-use"
# Tests send many requests from one address and run many pitches as one user: the rate limits
# (api/rate_limits.py) are off unless a test turns one on (test_rate_limits.py).
NO_RATE_LIMITS: dict[str, int] = {
    "rate_limit_ip_per_minute": 0, "rate_limit_user_per_hour": 0, "rate_limit_runs_per_user_hour": 0,
    "max_concurrent_runs_per_user": 0, "max_sockets_per_user": 0, "signin_attempts_per_account_15min": 0,
    "signin_attempts_per_ip_hour": 0,
}


def need_service(name: str, reason: str) -> None:
    """A missing service fails the test under CI=true and skips it elsewhere."""
    message = f"{name} is not reachable: {reason}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


async def create_pg_database() -> str:
    name = f"agente_films_test_{uuid.uuid4().hex[:12]}"
    try:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
        need_service("PostgreSQL", f"{PG_ADMIN_URL}: {exc}")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


async def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def local_redis() -> Redis:
    """A client of the local Redis (database 14), or the test skips (fails under CI=true)."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        need_service("Redis", f"{REDIS_URL}: {exc}")
    return client


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """A client of the local Redis, for the bus and the multi-instance tests."""
    client = await local_redis()
    yield client
    await client.aclose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each test that uses this runs once on SQLite and once on a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/test.db"
        return
    url = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(url)


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "artifacts_dir": tmp_path / "artifacts",
        "offline_chunk_delay_ms": 0,
        "wikipedia_base_url": DEAD_WIKIPEDIA,
        "redis_url": None,
        "llm_model": "offline",
        "agent_models": {},
        **NO_RATE_LIMITS,
        # In-process clients (httpx.ASGITransport) send Host "test"; the Host check (api/guards/)
        # answers only to the names it serves.
        "allowed_hosts": ["test"],
        # Settings refuse REDIS_URL without SECRET_KEY (instances must sign alike); one key for all.
        "secret_key": TEST_SECRET_KEY,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def attach_studio(app: Any, studio: Any) -> None:
    """What the app's lifespan does, for tests that drive the app in process (ASGITransport runs
    no lifespan): its studio and its authenticator."""
    from agente_films.auth.identity import Authenticator
    from agente_films.auth.secrets import load_secret_key

    app.state.studio = studio
    app.state.auth = Authenticator(studio.settings, studio.sessionmaker, load_secret_key(studio.settings))


@pytest.fixture
async def studio(database_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    """The assembled app without HTTP, on each database, with the stub Wikipedia."""
    from agente_films.studio import Studio

    studio = await Studio.open(make_settings(database_url, tmp_path, wikipedia_base_url=WIKI))
    yield studio
    await studio.close()


@pytest.fixture
async def make_api(database_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    """The real app (routes, dependencies, error mapping) in process with its own studio, on each
    database: `await make_api(**settings)` is an httpx client of /api/v1 (`base_url=` another
    root), with the studio at `client.studio`."""
    from agente_films.api.app import create_app
    from agente_films.studio import Studio

    opened: list[tuple[Any, httpx.AsyncClient]] = []

    async def make(base_url: str = "http://test/api/v1", **overrides: Any) -> httpx.AsyncClient:
        settings = make_settings(database_url, tmp_path, **{"wikipedia_base_url": WIKI, **overrides})
        app = create_app(settings)
        studio = await Studio.open(settings)
        attach_studio(app, studio)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)
        client.studio = studio  # type: ignore[attr-defined]
        opened.append((studio, client))
        return client

    yield make
    for studio, client in opened:
        await client.aclose()
        await studio.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`agente-films serve` in a child process, as a user runs it."""

    def __init__(self, env: dict[str, str], port: int | None = None) -> None:
        self.port = port or free_port()
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, log_path: Path) -> ServerProcess:
        self.log_path = log_path
        env = {**os.environ, **self.env, "LOG_LEVEL": "warning"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agente_films.cli", "serve", "--port", str(self.port)],
            env=env,
            stdout=log_path.open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not start: {log_path.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def server_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "DATABASE_URL": database_url,
        "ARTIFACTS_DIR": str(tmp_path / "artifacts"),
        "WIKIPEDIA_BASE_URL": DEAD_WIKIPEDIA,
        "OFFLINE_CHUNK_DELAY_MS": "0",
        "LLM_MODEL": "offline",
        "AGENT_MODELS": "",
        "REDIS_URL": "",
        "FRONTEND_DIST": str(tmp_path / "no-frontend"),
        "SECRET_KEY": TEST_SECRET_KEY,
        **{name.upper(): "0" for name in NO_RATE_LIMITS},
    }
    env.update(extra)
    return env


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator:
    servers: list[ServerProcess] = []

    def start(database_url: str, port: int | None = None, **extra: str) -> ServerProcess:
        server = ServerProcess(server_env(database_url, tmp_path, **extra), port=port)
        servers.append(server)
        return server.start(tmp_path / f"server-{len(servers)}.log")

    yield start
    for server in servers:
        server.stop()


FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


def agui_verify(frames: list[dict]) -> dict:
    """Run frames through the stock AG-UI client's verifier and @ag-ui/core's schemas
    (frontend/conformance/verify.mjs): returns its report ({ok, schemaErrors, verifyError, ...})."""
    import json
    import shutil

    node = shutil.which("node")
    if node is None or not (FRONTEND / "node_modules" / "@ag-ui" / "client").exists():
        need_service("node with frontend/node_modules", "run `make test` (it installs them)")
    done = subprocess.run(
        [node, "conformance/verify.mjs", "-"],
        input=json.dumps(frames),
        capture_output=True,
        text=True,
        cwd=FRONTEND,
        timeout=60,
    )
    report = json.loads(done.stdout)
    return report


def agui_events(messages: list[dict]) -> list[dict]:
    """The AG-UI events of what a socket received: everything but its control messages."""
    return [m for m in messages if "type" in m]


def offline_server(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[ServerProcess]:
    """A module's real server on SQLite and the offline model. 4 ms per chunk: a whole pitch
    streams ~300 chunks, slow enough to cancel, interrupt or catch running."""
    tmp = tmp_path_factory.mktemp(name)
    env = server_env(f"sqlite+aiosqlite:///{tmp}/{name}.db", tmp, OFFLINE_CHUNK_DELAY_MS="4", MAX_MESSAGE_CHARS="500")
    process = ServerProcess(env).start(tmp / "server.log")
    yield process
    process.stop()


@pytest.fixture
async def api(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    """REST client of the module's `server`."""
    async with httpx.AsyncClient(base_url=f"{server.url}/api/v1", timeout=30) as client:
        yield client


async def row_counts(studio: Any) -> dict[str, int]:
    """How many rows each of our tables holds: what a refusal must leave as it was."""
    from sqlalchemy import func, select

    from agente_films.db.tables import (
        AgentEvent, Answer, FilmProject, InferentialReasoning, LlmUsage, Question, SessionState, StudioSession,
    )

    tables = (StudioSession, FilmProject, Question, Answer, InferentialReasoning, SessionState, AgentEvent, LlmUsage)
    async with studio.sessionmaker() as db:
        return {t.__tablename__: int(await db.scalar(select(func.count()).select_from(t)) or 0) for t in tables}
