"""The app's one async engine, shared by ADK's session service and our repositories."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The PostgreSQL advisory lock migrations run under (any fixed bigint, the same in every process):
# Alembic takes none, and two processes upgrading an empty database at once raced on CREATE TABLE
# alembic_version (UniqueViolation, 1 in 3 cold starts).
MIGRATION_LOCK_KEY = 7_316_213_005_127_001


def make_engine(url: str, *, pool_size: int = 20, max_overflow: int = 30, pool_timeout: float = 60.0) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # Each running pitch briefly holds one connection per batch its writer stores, and API
        # reads take their own; the pool bounds that per process (PostgreSQL's default
        # max_connections is 100).
        return create_async_engine(
            url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout
        )
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # A busy timeout turns "database is locked" from another process (the CLI) into a short
    # wait, and WAL lets its readers go on while this one writes. With WAL, synchronous=NORMAL
    # skips the fsync per commit and still loses nothing when the process dies (only an OS crash
    # or power cut can take back the last commits): the durability a restart needs.
    # One connection per process: SQLite has one writer at a time anyway, and the pool's queue
    # hands the connection out in arrival order. With several, waiters poll for the file lock
    # and the unlucky ones starve: at 50 concurrent pitches one waited past the 30 s busy
    # timeout ("database is locked"). Every use of a connection here is short.
    engine = create_async_engine(
        url, connect_args={"timeout": 30}, pool_size=1, max_overflow=0, pool_timeout=pool_timeout
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):  # noqa: ANN001
        dbapi_connection.isolation_level = None  # the driver's own BEGIN is replaced below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin_immediate(connection):  # noqa: ANN001
        # Take the write lock when a transaction begins (the recipe in SQLAlchemy's aiosqlite
        # docs, with IMMEDIATE). A deferred transaction that reads, then writes after another
        # connection committed cannot upgrade its snapshot and fails at once with "database is
        # locked", busy timeout or not: the bench saw pitches fail so from 50 at once.
        # Reads wait their turn too; each holds the lock for milliseconds.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


async def migrate(engine: AsyncEngine, revision: str = "head", *, downgrade: bool = False) -> None:
    """`alembic upgrade head` (or up/down to another revision) on this engine."""

    def _run(connection) -> None:  # noqa: ANN001
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if downgrade else command.upgrade)(config, revision)

    async with engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            async with connection.begin():
                await connection.run_sync(_run)
            return
        # Session-level lock on this connection: the others wait here, then find the schema at
        # the revision and have nothing left to do.
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        await connection.commit()
        try:
            async with connection.begin():
                await connection.run_sync(_run)
        finally:
            try:
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                await connection.commit()
            except Exception:
                # Unusable connection: drop it rather than pool it, and the server frees the lock.
                await connection.invalidate()
