"""The databases a benchmark runs on, each made for it and dropped after: a SQLite file in the
run's temporary directory, a throwaway PostgreSQL database on the local server."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


async def on_each_database(
    kinds: list[str], workdir: Path, measure: Callable[[str], Awaitable[Any]]
) -> dict[str, Any]:
    """{kind: measure(database url)} for each kind ("sqlite", "postgresql"), in order."""
    report: dict[str, Any] = {}
    for kind in kinds:
        if kind == "sqlite":
            report[kind] = await measure(f"sqlite+aiosqlite:///{workdir}/bench-{uuid.uuid4().hex[:8]}.db")
            continue
        import asyncpg

        name = f"bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            report[kind] = await measure(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}")
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            await admin.close()
    return report
