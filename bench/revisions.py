"""Benchmark: what a follow-up costs (a revision, a casting note, a regeneration of casting). Before issue 12 a follow-up ("make it funnier") restarted the
team as a new pitch; now it is a revision that keeps the research and the reports its notes do not
touch. Both are measured in the same run, on the same studio and database, with the offline model
(no chunk delay, no network: what remains is the team's own work and the storage):

    uv run python -m bench.revisions                      # SQLite and PostgreSQL, 5 pairs each
    uv run python -m bench.revisions --databases sqlite --pairs 10

Per follow-up: wall time, model calls, prompt tokens (the offline model's estimate, four
characters a token), Wikipedia searches, and rows stored. Writes bench/results/revisions.json.
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

from sqlalchemy import func, select  # noqa: E402

from bench.databases import on_each_database  # noqa: E402
from agente_films.db.tables import AgentEvent, InferentialReasoning, LlmUsage  # noqa: E402
from agente_films.settings import Settings  # noqa: E402
from agente_films.studio import Studio  # noqa: E402

SUBJECTS = ["Ada Lovelace", "Marie Curie", "Nikola Tesla", "Hypatia of Alexandria", "Grace Hopper",
            "Alan Turing", "Hedy Lamarr", "Rosalind Franklin", "Ibn Battuta", "Sofia Kovalevskaya"]


async def measure(studio: Studio, session_id: str, text: str, stage: str | None = None) -> dict[str, Any]:
    """One follow-up: a message, or (`stage`) a regeneration of that stage."""
    started = time.perf_counter()
    if stage is not None:
        run = await studio.runs.regenerate(session_id=session_id, user_id="bench", stage=stage)
    else:
        run = await studio.runs.start(session_id=session_id, user_id="bench", text=text)
    await run.done.wait()
    wall = time.perf_counter() - started
    async with studio.sessionmaker() as db:
        calls, prompt = (await db.execute(
            select(func.count(), func.coalesce(func.sum(LlmUsage.prompt_tokens), 0)).where(LlmUsage.question_id == run.run_id)
        )).one()
        searches = await db.scalar(select(func.count()).select_from(InferentialReasoning).where(
            InferentialReasoning.question_id == run.run_id, InferentialReasoning.reasoning_type == "tool_call",
            InferentialReasoning.reasoning_text.like("wikipedia_search%")))
        rows = await db.scalar(select(func.count()).select_from(AgentEvent).where(AgentEvent.question_id == run.run_id))
    return {"status": run.status, "wall_s": wall, "model_calls": int(calls), "prompt_tokens": int(prompt),
            "wikipedia_searches": int(searches), "agent_event_rows": int(rows)}


async def bench_database(url: str, pairs: int, workdir: Path) -> dict[str, Any]:
    settings = Settings(_env_file=None, database_url=url, artifacts_dir=workdir / "artifacts", offline_chunk_delay_ms=0,
                        wikipedia_base_url="http://127.0.0.1:9", redis_url=None, llm_model="offline", agent_models={},
                        rate_limit_runs_per_user_hour=0, max_concurrent_runs_per_user=0)  # many runs, one user
    studio = await Studio.open(settings)
    results: dict[str, list[dict[str, Any]]] = {
        "restart (before)": [], "revision (now)": [], "casting note (issue 12)": [], "regenerate casting": [],
    }
    try:
        for index in range(pairs):
            subject = SUBJECTS[index % len(SUBJECTS)]
            # Before: the follow-up ran the whole team again from nothing, as a new pitch in the same
            # session ("make it funnier" became a pitch about "it funnier"): a full team run.
            before = await studio.create_session("bench")
            await measure(studio, before.id, subject)
            other = SUBJECTS[(index + 1) % len(SUBJECTS)]
            results["restart (before)"].append(await measure(studio, before.id, other))
            # Now: the follow-up is a revision of the pitch in its own session.
            now = await studio.create_session("bench")
            await measure(studio, now.id, subject)
            results["revision (now)"].append(await measure(studio, now.id, "make it funnier"))
            # A new take on one report: before issue 13 only a note could ask for it (the writers'
            # room drafts a round for it too); now the stage is regenerated alone.
            results["casting note (issue 12)"].append(await measure(studio, now.id, "cast someone younger"))
            results["regenerate casting"].append(await measure(studio, now.id, "", stage="casting"))
    finally:
        await studio.close()
    summary = {}
    for name, runs in results.items():
        assert all(r["status"] == "completed" for r in runs), runs
        summary[name] = {key: statistics.median(r[key] for r in runs) for key in runs[0] if key != "status"}
    def ratio(now: dict[str, float], before: dict[str, float]) -> dict[str, float | None]:
        return {key: (now[key] / before[key] if before[key] else None) for key in before}

    summary["ratio revision/restart"] = ratio(summary["revision (now)"], summary["restart (before)"])
    summary["ratio regenerate/note"] = ratio(summary["regenerate casting"], summary["casting note (issue 12)"])
    return summary


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "revisions.json")
    args = parser.parse_args()
    report: dict[str, Any] = {"pairs": args.pairs}
    with tempfile.TemporaryDirectory() as tmp:
        report |= await on_each_database(
            args.databases.split(","), Path(tmp), lambda url: bench_database(url, args.pairs, Path(tmp))
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    for kind in args.databases.split(","):
        print(f"\n{kind} (median of {args.pairs} follow-ups)")
        for name, values in report[kind].items():
            print(f"  {name:18} " + "  ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()))


if __name__ == "__main__":
    asyncio.run(main())
