"""`agente-films serve` runs the app; `agente-films pitch "Ada Lovelace"` runs the team in the terminal."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from agente_films.settings import Settings, get_settings


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from agente_films.api.app import create_app

    # Studio.open() migrates the database (alembic upgrade head) before the first request.
    uvicorn.run(create_app(settings), host=host, port=port, log_level=settings.log_level, ws="websockets")


def _migrate(settings: Settings) -> None:
    from agente_films.db.engine import make_engine, migrate

    async def run() -> None:
        engine = make_engine(settings.database_url)
        await migrate(engine)
        await engine.dispose()

    asyncio.run(run())
    print(f"Database at {settings.database_url} is at the newest schema.")


async def _pitch(settings: Settings, subject: str) -> int:
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table

    from agente_films.agents.team import AGENT_NAMES
    from agente_films.studio import Studio

    console = Console()
    studio = await Studio.open(settings)
    try:
        row = await studio.create_session(settings.default_user_id, title=subject)
        status = {name: "waiting" for name in AGENT_NAMES}
        round_label = ""
        documents: list[dict] = []

        def table() -> Table:
            view = Table(title=f"Agente Films: pitching {subject!r} {round_label}".strip(), min_width=72)
            view.add_column("agent")
            view.add_column("status")
            for name, state in status.items():
                style = {"working": "bold yellow", "done": "green"}.get(state.split(" ")[0], "dim")
                view.add_row(name, f"[{style}]{state}[/]")
            return view

        frames = studio.bus.subscribe(row.id, 0, None)
        run = await studio.runs.start(session_id=row.id, user_id=row.user_id, text=subject)
        with Live(table(), console=console, refresh_per_second=8) as live:
            async for frame in frames:
                kind = frame["type"]
                agent = frame.get("stepName")
                if kind == "STEP_STARTED" and agent in status:
                    if frame.get("iteration"):
                        round_label = f"(writers' room round {frame['iteration']} of {frame['maxIterations']})"
                    status[agent] = "working"
                elif kind == "STEP_FINISHED" and agent in status:
                    status[agent] = "done"
                elif kind == "CUSTOM" and frame.get("name") == "artifact_saved":
                    documents.append(frame["value"])
                elif kind in ("RUN_FINISHED", "RUN_ERROR"):
                    live.update(table())
                    break
                live.update(table())
        await run.done.wait()
        if run.status != "completed":
            console.print(f"[red]The run ended {run.status}.[/]")
            return 1
        for document in documents:
            path = (
                Path(settings.artifacts_dir).resolve()
                / "apps/agente_films/users"
                / row.user_id
                / "sessions"
                / row.id
                / "artifacts"
                / document["filename"]
                / "versions"
                / str(document["version"])
                / document["filename"]
            )
            console.print(f"Pitch document: [bold]{document['filename']}[/] (version {document['version']})")
            console.print(f"  stored under {path}")
        console.print(f"Session {row.id}; serve the app to download it as Markdown or PDF.")
        return 0
    finally:
        await studio.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agente-films", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="migrate the database, then serve the API and the UI")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    commands.add_parser("migrate", help="bring the database schema to the newest revision")
    pitch = commands.add_parser("pitch", help="run the whole team on a subject in the terminal")
    pitch.add_argument("subject")
    args = parser.parse_args(argv)

    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        _serve(settings, args.host or settings.host, args.port or settings.port)
        return 0
    if args.command == "migrate":
        _migrate(settings)
        return 0
    logging.getLogger().setLevel(logging.ERROR)  # the live table is the output
    return asyncio.run(_pitch(settings, args.subject))


if __name__ == "__main__":
    sys.exit(main())
