"""Records the UI tests' fixtures from the real backend (offline model, in process, SQLite):
a greeting run, then a whole "Ada Lovelace" pitch. Run it when the wire shapes change:

    uv run python scripts/record_ui_fixtures.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

import respx

from agente_films import protocol as p
from agente_films.api.schemas import StateVersionOut
from agente_films.db.repositories import StateRepository
from agente_films.runs.timeline import session_timeline
from agente_films.settings import Settings
from agente_films.studio import Studio

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "frontend" / "src" / "test" / "fixtures"
sys.path.insert(0, str(ROOT / "backend"))
from tests.test_pipeline import WIKI, mock_wikipedia  # noqa: E402  the tests' Wikipedia answers


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=f"sqlite+aiosqlite:///{tmp}/fixtures.db",
            artifacts_dir=Path(tmp) / "artifacts",
            offline_chunk_delay_ms=0,
            wikipedia_base_url=WIKI,
        )
        studio = await Studio.open(settings)
        router = respx.mock(assert_all_called=False)
        mock_wikipedia(router)
        router.start()
        try:
            row = await studio.create_session("local")
            stream_id, _ = await studio.bus.position(row.id)
            messages: list[dict] = [
                p.dump(p.Hello(session_id=row.id, stream=stream_id, last_seq=0, active_run_id=None, model="offline"))
            ]
            for text in ("hello", "Ada Lovelace"):
                run = await studio.runs.start(session_id=row.id, user_id="local", text=text)
                await run.done.wait()
            async for frame in studio.bus.subscribe(row.id, 0, stream_id):
                messages.append(frame)
                if frame.get("type") in p.TERMINAL_TYPES and frame.get("runId") == run.run_id:
                    break
            async with studio.sessionmaker() as db:
                timeline = await session_timeline(db, row.id, await studio.adk_events(row))
                states = [StateVersionOut.model_validate(s).model_dump(mode="json") for s in await StateRepository(db).versions(row.id)]
        finally:
            router.stop()
            await studio.close()
    (FIXTURES / "pitch-frames.json").write_text(json.dumps(messages, indent=1) + "\n")
    (FIXTURES / "pitch-timeline.json").write_text(json.dumps(timeline.model_dump(mode="json", by_alias=True, exclude_none=True), indent=1) + "\n")
    (FIXTURES / "pitch-states.json").write_text(json.dumps(states, indent=1) + "\n")
    print(f"{len(messages)} messages, {len(timeline.runs)} runs, {len(states)} states -> {FIXTURES}")


if __name__ == "__main__":
    asyncio.run(main())
