"""`agente-films serve` runs the app; `agente-films pitch "Ada Lovelace"` runs the team in the terminal;
`agente-films user add NAME` (remove, list, token) manages accounts."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import ipaddress
import logging
import sys
from pathlib import Path

from agente_films.settings import Settings, get_settings


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback  # 127.0.0.0/8 and ::1
    except ValueError:
        return False  # any other name may resolve to anything


def unauthenticated_remote_refusal(settings: Settings, host: str) -> str | None:
    """Why `serve` must not listen on `host`, or None. AUTH_MODE=none makes everyone who reaches
    the port the local user, with no sign-in: only this machine may, unless the opt-in says so."""
    if settings.auth_mode != "none" or settings.allow_unauthenticated_remote or is_loopback(host):
        return None
    return (
        f"Refusing to listen on {host}: with AUTH_MODE=none there is no sign-in, and anyone who can "
        "reach this address would be the local user. Set AUTH_MODE=password (or oidc, or proxy), "
        "listen on 127.0.0.1, or set ALLOW_UNAUTHENTICATED_REMOTE=true if only trusted machines "
        "can reach it."
    )


def _serve(settings: Settings, host: str, port: int) -> None:
    refusal = unauthenticated_remote_refusal(settings, host)
    if refusal:
        raise SystemExit(refusal)
    import uvicorn

    from agente_films.api.app import create_app
    from agente_films.api.guards.server import server_options

    # Studio.open() migrates the database (alembic upgrade head) before the first request.
    # server_options: the request-head cap (431) and the socket frame cap (1009), api/guards/server.py.
    # proxy_headers=False: the app applies X-Forwarded-For/-Proto itself (FORWARDED_ALLOW_IPS,
    # auth/peers.py), after noting the real peer that AUTH_MODE=proxy's TRUSTED_PROXIES is checked on.
    uvicorn.run(
        create_app(settings), host=host, port=port, log_level=settings.log_level, ws="websockets",
        proxy_headers=False, **server_options(settings),
    )


def _migrate(settings: Settings) -> None:
    from agente_films.db.engine import make_engine, migrate

    async def run() -> None:
        engine = make_engine(settings.database_url)
        await migrate(engine)
        await engine.dispose()

    asyncio.run(run())
    print(f"Database at {settings.database_url} is at the newest schema.")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:  # one line, for scripts: printf '%s\n' "$PASSWORD" | agente-films user add ...
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        raise SystemExit("The two passwords differ; nothing was changed.")
    return password


async def _user(settings: Settings, args: argparse.Namespace, password: str | None) -> int:
    """The admin's account commands, straight on the database (the server need not run)."""
    from agente_films.auth.accounts import Accounts
    from agente_films.db.engine import make_engine, make_sessionmaker, migrate
    from agente_films.errors import RunRefused

    engine = make_engine(settings.database_url)
    try:
        await migrate(engine)
        accounts = Accounts(settings, make_sessionmaker(engine))
        if args.user_command == "add":
            # The first account is an admin: someone must be (closed sign-up's first step).
            is_admin = args.admin or not await accounts.has_users()
            user = await accounts.add_user(args.name, password or "", is_admin=is_admin)
            print(f"Added {user.username}{' (admin)' if user.is_admin else ''}.")
        elif args.user_command == "remove":
            user = await accounts.remove_user(args.name)
            print(f"Removed {user.username}: their sign-ins and API tokens stop working now.")
        elif args.user_command == "list":
            for user in await accounts.users():
                kind = "password" if user.password_hash else "oidc" if user.oidc_subject else "proxy"
                role = "admin" if user.is_admin else "user"
                print(f"{user.username}\t{role}\t{kind}\t{user.created_at:%Y-%m-%d}")
        else:  # token
            user = await accounts.user_named(args.name)
            made = await accounts.create_token(user.id, args.token_name, args.expires_days)
            print(f"API token {made.row.prefix}... for {user.username}, shown once:", file=sys.stderr)
            print(made.secret)
        return 0
    except RunRefused as exc:
        print(f"agente-films user {args.user_command}: {exc}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()


async def _retention(settings: Settings, dry_run: bool) -> int:
    """One retention pass now (the server runs one every RETENTION_INTERVAL_SECONDS), safe beside
    a running server: no reaping of its runs and no background tasks (background=False), a
    session the database says is running is left alone, and a dry run only reads (nor migrates)."""
    from agente_films.retention import describe
    from agente_films.studio import Studio

    studio = await Studio.open(settings, run_migrations=not dry_run, background=False)
    try:
        report = await studio.retention.run(dry_run=dry_run)
    finally:
        await studio.close()
    print(f"RETENTION_ARCHIVE_DAYS={settings.retention_archive_days} RETENTION_PURGE_DAYS={settings.retention_purge_days} (0: off)")
    print("\n".join(describe(report)))
    return 0


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
    user = commands.add_parser("user", help="add, remove and list accounts; make API tokens (for admins)")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    user_add = user_commands.add_parser("add", help="add a password account (asks for the password)")
    user_add.add_argument("name")
    user_add.add_argument("--admin", action="store_true", help="an admin (the first account always is)")
    user_add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user_commands.add_parser("remove", help="delete an account, its sign-ins and tokens").add_argument("name")
    user_commands.add_parser("list", help="every account")
    user_token = user_commands.add_parser("token", help="print a new API token for an account, once")
    user_token.add_argument("name")
    user_token.add_argument("--name", dest="token_name", default="cli", help="what the token is for")
    user_token.add_argument("--expires-days", type=int, default=None)
    retention = commands.add_parser("retention", help="archive and purge idle sessions (seed 004, 5.5)")
    retention_run = retention.add_subparsers(dest="retention_command", required=True).add_parser(
        "run", help="one pass now: archive sessions idle RETENTION_ARCHIVE_DAYS, purge those idle RETENTION_PURGE_DAYS"
    )
    retention_run.add_argument("--dry-run", action="store_true", help="print what it would do; change nothing")
    args = parser.parse_args(argv)

    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        _serve(settings, args.host or settings.host, args.port or settings.port)
        return 0
    if args.command == "migrate":
        _migrate(settings)
        return 0
    if args.command == "user":
        logging.getLogger().setLevel(logging.WARNING)  # what the command prints is the output
        password = _read_password(args.password_stdin) if args.user_command == "add" else None
        return asyncio.run(_user(settings, args, password))
    if args.command == "retention":
        logging.getLogger().setLevel(logging.WARNING)  # what the command prints is the output
        return asyncio.run(_retention(settings, args.dry_run))
    logging.getLogger().setLevel(logging.ERROR)  # the live table is the output
    return asyncio.run(_pitch(settings, args.subject))


if __name__ == "__main__":
    sys.exit(main())
