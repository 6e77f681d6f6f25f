"""Benchmark: our server against ADK's stock api_server and against the floor, on the same agents
and the same fake model, on the same machine, in the same run.

    uv run python -m bench.run                      # the full run (tens of minutes; not for CI)
    uv run python -m bench.run --quick              # a smoke run (about a minute)
    uv run python -m bench.run --databases sqlite --concurrency 1,10 --runs 10

Contenders (each on a fresh database of the kind named, and a fresh process):
  floor          ADK Runner + InMemorySessionService in-process: no server, no persistence
  stock/<db>     ADK's get_fast_api_app (= `adk api_server`) + DatabaseSessionService, via /run_sse
  ours-ws/<db>   `agente-films serve`, message and frames over the session WebSocket
  ours-post/<db> `agente-films serve`, POST /api/v1/sessions/{id}/messages (waits for the run)

Prints two tables and writes JSON (default bench/results/latest.json); `python -m bench.plot` draws
docs/benchmarks_scaling.png from it. Definitions: bench/workload.py and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.drivers import OursPostDriver, OursWSDriver, StockDriver
from bench.fake_llm import FakeLLMHandle, child_env, die_with_parent, free_port, start_fake_llm
from bench.metrics import loadavg
from bench.stock_server import APP_NAME as STOCK_APP
from bench.workload import Contender

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# The benchmark is one client address running hundreds of pitches as one user: our server's rate
# limits (rate_limits.py) are off, as they are for the stock server, which has none; or, with
# BENCH_RATE_LIMITS=counted, counted but too high to refuse anything (what they cost).
RATE_LIMIT_SETTINGS = (
    "RATE_LIMIT_IP_PER_MINUTE", "RATE_LIMIT_USER_PER_HOUR", "RATE_LIMIT_RUNS_PER_USER_HOUR",
    "MAX_CONCURRENT_RUNS_PER_USER", "MAX_SOCKETS_PER_USER")
SERVER_RATE_LIMITS = {
    name: "1000000000" if os.environ.get("BENCH_RATE_LIMITS") == "counted" else "0" for name in RATE_LIMIT_SETTINGS
}

FULL_PLAN: dict[str, Any] = {
    "levels": [1, 10, 50, 200],
    "runs": 20,
    "conversation_turns": 12,
    "idle_sessions": 500,
    "warmup": 1,
    "turn_timeout": 900,
    # c=10 again with a slower model (12.5 chunks/s per session instead of 62): chunk latency
    # without the run queue of a saturated machine.
    "paced": {"concurrency": 10, "runs": 10, "ttft_ms": 100.0, "tps": 50.0, "tokens_per_chunk": 4},
}
QUICK_PLAN: dict[str, Any] = {
    "levels": [1, 3],
    "runs": 2,
    "conversation_turns": 2,
    "idle_sessions": 20,
    "warmup": 1,
    "turn_timeout": 120,
    "paced": {"concurrency": 1, "runs": 1, "ttft_ms": 5.0, "tps": 4000.0, "tokens_per_chunk": 16},
}
MODEL = {"ttft_ms": 100.0, "tps": 500.0, "tokens_per_chunk": 8}
QUICK_MODEL = {"ttft_ms": 10.0, "tps": 8000.0, "tokens_per_chunk": 16}
KINDS = ("floor", "stock", "ours-ws", "ours-post")


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --- databases ---------------------------------------------------------------------------------------


class Database:
    def __init__(self, kind: str, workdir: Path, name: str) -> None:
        self.kind = kind
        self.workdir = workdir
        self.name = name
        self.url = ""
        self.path: Path | None = None

    async def create(self) -> str:
        if self.kind == "sqlite":
            self.path = self.workdir / f"{self.name}.db"
            self.url = f"sqlite+aiosqlite:///{self.path}"
            return self.url
        import asyncpg

        db = f"bench_{self.name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{db}"')
        finally:
            await conn.close()
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        self.url = f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{db}"
        return self.url

    @property
    def plain_url(self) -> str:
        return self.url.replace("postgresql+asyncpg://", "postgresql://", 1)

    async def drop(self) -> None:
        if self.kind != "postgresql" or not self.url:
            return
        import asyncpg

        db = self.url.rsplit("/", 1)[1]
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        finally:
            await conn.close()

    async def probe(self) -> dict[str, Any]:
        """Rows in every table (ADK's included) and the size of the database."""
        if self.kind == "sqlite":
            return await asyncio.to_thread(self._probe_sqlite)
        import asyncpg

        conn = await asyncpg.connect(self.plain_url, timeout=10)
        try:
            tables = [r["tablename"] for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
            rows = {t: await conn.fetchval(f'SELECT count(*) FROM "{t}"') for t in tables if t != "alembic_version"}
            size = await conn.fetchval(
                "SELECT coalesce(sum(pg_total_relation_size(quote_ident(tablename))), 0) "
                "FROM pg_tables WHERE schemaname = 'public'")
        finally:
            await conn.close()
        return {"rows": rows, "bytes": int(size)}

    def _probe_sqlite(self) -> dict[str, Any]:
        assert self.path is not None
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
            rows = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables if t != "alembic_version"}
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.DatabaseError:
                pass
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        finally:
            conn.close()
        return {"rows": rows, "bytes": pages * page_size}


# --- server processes -----------------------------------------------------------------------------------


class ServerProcess:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log_path: Path) -> None:
        self.name, self.argv, self.env, self.port, self.log_path = name, argv, env, port, log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, cwd: Path, timeout: float = 120) -> ServerProcess:
        self.process = subprocess.Popen(self.argv, env=self.env, cwd=cwd, stdout=self.log_path.open("ab"),
                                        stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not start: {self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def base_env(fake: FakeLLMHandle, workdir: Path) -> dict[str, str]:
    pythonpath = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return child_env({
        "PYTHONPATH": pythonpath,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LLM_MODEL": "openai/fake-model",
        "AGENT_MODELS": "",
        "LITELLM_BASE_URL": fake.base_url,
        "LITELLM_API_KEY": "x",
        "LLM_MAX_RETRIES": "0",
        "WIKIPEDIA_BASE_URL": fake.url,
        "REDIS_URL": "",
        "LOG_LEVEL": "warning",
        "FRONTEND_DIST": str(workdir / "no-frontend"),
    })


# --- contenders -------------------------------------------------------------------------------------------


async def run_floor(fake: FakeLLMHandle, plan: dict[str, Any], env: dict[str, str], workdir: Path) -> dict[str, Any]:
    out = workdir / "floor.json"
    argv = [sys.executable, "-m", "bench.floor", "--plan", json.dumps(plan), "--fake-url", fake.url,
            "--fake-pid", str(fake.pid), "--out", str(out)]
    process = await asyncio.create_subprocess_exec(*argv, env=env, cwd=workdir, preexec_fn=die_with_parent)
    code = await process.wait()
    if code != 0:
        raise RuntimeError(f"the floor process exited with {code}")
    return json.loads(out.read_text())


async def run_server_contender(kind: str, db_kind: str, fake: FakeLLMHandle, plan: dict[str, Any],
                               env: dict[str, str], workdir: Path) -> dict[str, Any]:
    name = f"{kind}-{db_kind}"
    db = Database(db_kind, workdir, name)
    url = await db.create()
    port = free_port()
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)
    if kind == "stock":
        argv = [sys.executable, "-m", "bench.stock_server", "--port", str(port), "--db-url", url,
                "--workdir", str(workdir / name)]
        server_env = dict(env)
    else:
        argv = [sys.executable, "-m", "agente_films.cli", "serve", "--port", str(port)]
        server_env = {**env, "DATABASE_URL": url, "ARTIFACTS_DIR": str(workdir / name / "artifacts"), **SERVER_RATE_LIMITS}
    server = ServerProcess(name, argv, server_env, port, logs / f"{name}.log")
    try:
        server.start(workdir)  # from the main thread: PR_SET_PDEATHSIG follows the forking thread
        if kind == "stock":
            driver = StockDriver(server.url, STOCK_APP)
        elif kind == "ours-ws":
            driver = OursWSDriver(server.url)
        else:
            driver = OursPostDriver(server.url)
        contender = Contender(driver, plan, server.pid, fake.url, fake_pid=fake.pid, db_probe=db.probe, log=log)
        result = await contender.run()
        result["database"] = db_kind
        return result
    finally:
        server.stop()
        await db.drop()


def git_info() -> dict[str, Any]:
    """Which code was measured: the commit, and the files changed since (other work may be in flight)."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    changed = [line[3:] for line in git("status", "--porcelain", "--", "backend/agente_films").splitlines()]
    return {"commit": git("rev-parse", "--short", "HEAD"), "backend_changes_since_commit": changed}


def machine_info() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    pg = None
    try:
        pg = subprocess.run(["psql", "--version"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    versions = {}
    for package in ("google-adk", "litellm", "sqlalchemy", "uvicorn", "fastapi", "websockets", "aiosqlite", "asyncpg"):
        try:
            from importlib.metadata import version

            versions[package] = version(package)
        except Exception:
            versions[package] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg,
        "packages": versions,
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    plan = dict(QUICK_PLAN if args.quick else FULL_PLAN)
    model = dict(QUICK_MODEL if args.quick else MODEL)
    if args.concurrency:
        plan["levels"] = [int(x) for x in args.concurrency.split(",") if x.strip()]
    for key in ("runs", "conversation_turns", "idle_sessions", "warmup"):
        value = getattr(args, key)
        if value is not None:
            plan[key] = value
    for key in ("ttft_ms", "tps", "tokens_per_chunk"):
        value = getattr(args, key)
        if value is not None:
            model[key] = value
    if args.no_paced:
        plan.pop("paced", None)
    plan["model"] = model  # what the paced phase restores
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    kinds = [k.strip() for k in args.contenders.split(",") if k.strip()]
    for kind in kinds:
        if kind not in KINDS:
            raise SystemExit(f"unknown contender {kind!r}; choose from {', '.join(KINDS)}")
    for database in databases:
        if database not in ("sqlite", "postgresql"):
            raise SystemExit(f"unknown database {database!r}; choose sqlite and/or postgresql")

    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="agente-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "command": "python -m bench.run " + " ".join(sys.argv[1:]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine_info(),
        "git": git_info(),
        "plan": plan,
        "model": model,
        "loadavg_start": loadavg(),
        "results": {},
    }
    log(f"bench: workdir {workdir}; model {model}; plan {plan}")
    fake = start_fake_llm(ttft_ms=model["ttft_ms"], tps=model["tps"], tokens_per_chunk=model["tokens_per_chunk"],
                          log_path=workdir / "fake_llm.log")
    try:
        env = base_env(fake, workdir)
        order: list[tuple[str, str | None]] = []
        if "floor" in kinds:
            order.append(("floor", None))
        for database in databases:
            order.extend((kind, database) for kind in kinds if kind != "floor")

        async def measure(kind: str, database: str | None) -> None:
            key = kind if database is None else f"{kind}/{database}"
            log(f"bench: {key}")
            started = time.monotonic()
            try:
                if kind == "floor":
                    result = await run_floor(fake, plan, env, workdir)
                else:
                    result = await run_server_contender(kind, database, fake, plan, env, workdir)
            except Exception as exc:  # one broken contender must not lose the others' numbers
                log(f"bench: {key} failed: {type(exc).__name__}: {exc}")
                result = {"contender": kind, "failed": f"{type(exc).__name__}: {exc}"[:2000]}
            result["duration_s"] = time.monotonic() - started
            report["results"][key] = result

        if args.parallel:  # every contender at once: checks the harness, the numbers mean nothing
            report["parallel"] = True
            await asyncio.gather(*(measure(kind, database) for kind, database in order))
            report["results"] = {key: report["results"][key] for key in
                                 (k if d is None else f"{k}/{d}" for k, d in order)}
        else:
            for kind, database in order:
                fake.reset()
                await measure(kind, database)
    finally:
        fake.close()
        if not args.keep_workdir and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    report["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    report["loadavg_end"] = loadavg()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny counts and a fast model: a smoke run")
    parser.add_argument("--concurrency", help="comma-separated concurrency levels (default 1,10,50,200)")
    parser.add_argument("--runs", type=int, help="pipelines at concurrency 1, and the minimum at each level")
    parser.add_argument("--conversation-turns", type=int, help="turns in the one long conversation")
    parser.add_argument("--idle-sessions", type=int, help="sessions created to measure memory per idle session")
    parser.add_argument("--warmup", type=int, help="warm-up pipelines per contender (not measured)")
    parser.add_argument("--no-paced", action="store_true", help="skip the phase with the slower model")
    parser.add_argument("--parallel", action="store_true",
                        help="run the contenders at the same time (a harness check: they compete for the CPU)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--contenders", default=",".join(KINDS))
    parser.add_argument("--ttft-ms", type=float)
    parser.add_argument("--tps", type=float, help="fake model tokens per second")
    parser.add_argument("--tokens-per-chunk", type=int)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "latest.json"))
    parser.add_argument("--workdir", help="keep databases, artifacts and logs here")
    parser.add_argument("--keep-workdir", action="store_true")
    args = parser.parse_args(argv)

    report = asyncio.run(main_async(args))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    from bench.report import print_tables

    print_tables(report)
    log(f"bench: wrote {out}")
    failed = [key for key, result in report["results"].items() if result.get("failed")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
