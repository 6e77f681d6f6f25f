"""Benchmark: what a branch costs. A session with a pitch and two revisions (about 100 ADK events)
is branched from its last state version, and from round 1 of its first run, several times; the
time of each branch request's work (`branching.branch_session`), split into ADK's `append_event`
(the public door the copy goes through) and the rest. Offline model, no chunk delay:

    uv run python -m bench.branching                      # SQLite and PostgreSQL, 5 branches each
    uv run python -m bench.branching --databases sqlite --branches 10

Writes bench/results/branching.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "backend"))

from bench.databases import on_each_database  # noqa: E402
from agente_films.branching import BranchRequest, branch_session  # noqa: E402
from agente_films.db.repositories import StateRepository  # noqa: E402
from agente_films.settings import Settings  # noqa: E402
from agente_films.studio import Studio  # noqa: E402


async def bench_database(url: str, branches: int, workdir: Path) -> dict[str, Any]:
    settings = Settings(_env_file=None, database_url=url, artifacts_dir=workdir / "artifacts", offline_chunk_delay_ms=0,
                        wikipedia_base_url="http://127.0.0.1:9", redis_url=None, llm_model="offline", agent_models={},
                        rate_limit_runs_per_user_hour=0, max_concurrent_runs_per_user=0)  # many runs, one user
    studio = await Studio.open(settings)
    service = type(studio.session_service)
    appended = {"seconds": 0.0, "events": 0}
    original = service.append_event

    async def timed(self, session, event):  # noqa: ANN001, ANN202
        started = time.perf_counter()
        try:
            return await original(self, session, event)
        finally:
            appended["seconds"] += time.perf_counter() - started
            appended["events"] += 1

    try:
        row = await studio.create_session("bench")
        for text in ("Ada Lovelace", "make it darker", "Act II drags"):
            run = await studio.runs.start(session_id=row.id, user_id="bench", text=text)
            await run.done.wait()
            assert run.status == "completed", run.status
        async with studio.sessionmaker() as db:
            last = await StateRepository(db).latest_version(row.id)
        events = len(await studio.adk_events(row))
        results: dict[str, Any] = {"source_events": events, "source_versions": last}
        service.append_event = timed  # type: ignore[method-assign]
        for name, point in (("last version", BranchRequest(from_version=last)), ("round 1", BranchRequest(from_round=1))):
            walls, appends, copied = [], [], 0
            for _ in range(branches):
                appended.update(seconds=0.0, events=0)
                started = time.perf_counter()
                branch = await branch_session(studio, row, point)
                walls.append(time.perf_counter() - started)
                appends.append(appended["seconds"])
                copied = int(branch.branch_point["events"])
            results[name] = {
                "events_copied": copied,
                "wall_s": statistics.median(walls),
                "append_event_s": statistics.median(appends),
                "per_event_ms": statistics.median(appends) / max(copied, 1) * 1000,
            }
        return results
    finally:
        service.append_event = original  # type: ignore[method-assign]
        await studio.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--branches", type=int, default=5)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "branching.json")
    args = parser.parse_args()
    report: dict[str, Any] = {"branches": args.branches}
    with tempfile.TemporaryDirectory() as tmp:
        report |= await on_each_database(
            args.databases.split(","), Path(tmp), lambda url: bench_database(url, args.branches, Path(tmp))
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
