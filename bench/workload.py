"""The measurements, the same for every contender: warm-up, idle sessions, pipelines at each
concurrency level, and one long conversation.

Definitions (all client-side, wall clock; the fake model reports its own time per run tag):
- model time of a turn: the union of the intervals during which the fake model was answering a
  request of that turn (box office and casting overlap: counted once);
- overhead of a turn: turn wall time - model time (everything that is not the model: ADK, LiteLLM,
  the tools, the session layer, the transport);
- chunk latency: fake model wrote a text chunk -> the client received it;
- TTFT: message sent -> first text chunk received;
- lost events: tool calls, text replies and text chunks the fake model sent but the client did
  not see, plus gaps in our per-session `seq`;
- complete pitch: the run finished without error, the file writer's save_pitch_document returned
  "saved" to the model, and the client saw the artifact (frame / event / GET .../pitches).
"""

from __future__ import annotations

import asyncio
import gc
import math
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench.drivers import Driver, Session, TurnResult, new_tag, subject_message
from bench.metrics import cpu_seconds, dist, loadavg, peak_rss_bytes, rss_bytes

DbProbe = Callable[[], Awaitable[dict[str, Any]]]


async def fake_stats(fake_url: str, tags: list[str], chunks: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=fake_url, timeout=120) as http:
        for i in range(0, len(tags), 25):
            batch = tags[i : i + 25]
            response = await http.get("/_bench/stats", params={"tags": ",".join(batch), "chunks": int(chunks)})
            response.raise_for_status()
            out.update(response.json())
    return out


def analyze(result: TurnResult, stats: dict[str, Any], streams: bool) -> dict[str, Any]:
    """One turn, checked and timed against what the fake model says it did."""
    latencies: list[float] = []
    mismatched = 0
    received = 0
    for agent, messages in result.chunks.items():
        sent = stats.get("chunks", {}).get(agent, [])
        for index, message in enumerate(messages):
            received += len(message)
            if index >= len(sent):
                mismatched += len(message)
                continue
            emits, texts = sent[index]["emits"], sent[index]["texts"]
            for k, (when, text) in enumerate(message):
                if k < len(emits) and texts[k] == text:
                    latencies.append((when - emits[k]) * 1000)
                else:
                    mismatched += 1
    lost = result.seq_gaps
    if result.tool_calls is not None:
        lost += max(0, stats.get("tool_calls", 0) - result.tool_calls)
    if result.text_replies is not None:
        lost += max(0, stats.get("text_replies", 0) - result.text_replies)
    if streams:
        lost += max(0, stats.get("text_chunks", 0) - received)
    busy = stats.get("model_busy_ms") or 0.0
    model_ttft = stats.get("first_ttft_ms")
    complete = bool(result.ok and stats.get("pitch_saved") and result.artifact_saved is not False)
    return {
        "tag": result.tag,
        "ok": result.ok,
        "error": result.error,
        "complete": complete,
        "wall_ms": result.wall_ms,
        "model_busy_ms": busy,
        "model_requests": stats.get("requests", 0),
        "prompt_tokens": stats.get("prompt_tokens", 0),
        "overhead_ms": result.wall_ms - busy,
        "ttft_ms": result.ttft_ms,
        "ttft_overhead_ms": (result.ttft_ms - model_ttft) if result.ttft_ms is not None and model_ttft else None,
        "chunk_ms": latencies,
        "chunk_mismatched": mismatched,
        "lost_events": lost,
        "frames": result.frames,
    }


class Contender:
    """Runs the plan against one driver; `pid` is the process whose CPU and memory are measured."""

    def __init__(self, driver: Driver, plan: dict[str, Any], pid: int, fake_url: str,
                 fake_pid: int | None = None, db_probe: DbProbe | None = None,
                 log: Callable[[str], None] = print) -> None:
        self.driver = driver
        self.plan = plan
        self.pid = pid
        self.fake_url = fake_url
        self.fake_pid = fake_pid
        self.db_probe = db_probe
        self.log = log
        self.timeout = float(plan.get("turn_timeout", 900))
        self._subject = 0

    def _message(self, tag: str, subject: int | None) -> str:
        self._subject += 1
        return subject_message(tag, self._subject if subject is None else subject)

    async def _pipeline(self, session: Session | None = None, subject: int | None = None) -> tuple[TurnResult, Session | None]:
        tag = new_tag()
        own = session is None
        try:
            async with asyncio.timeout(self.timeout):
                if session is None:
                    session = await self.driver.new_session()
                result = await self.driver.turn(session, self._message(tag, subject), tag)
        except Exception as exc:
            result = TurnResult(tag, error=f"{type(exc).__name__}: {exc}"[:500])
        if own and session is not None:
            try:
                await self.driver.verify(session, result)
                await self.driver.close_session(session)
            except Exception as exc:
                result.error = result.error or f"verify: {type(exc).__name__}: {exc}"
                result.ok = False
        return result, session

    async def run(self) -> dict[str, Any]:
        out: dict[str, Any] = {"contender": self.driver.name, "loadavg_start": loadavg()}
        await self.driver.start()
        try:
            for _ in range(int(self.plan.get("warmup", 1))):
                warm, _ = await self._pipeline()
                if not warm.ok:
                    raise RuntimeError(f"warm-up pipeline failed: {warm.error}")
            await self.driver.warmed_up()
            out["rss_after_warmup"] = rss_bytes(self.pid)
            if self.plan.get("idle_sessions"):
                out["idle"] = await self._idle(int(self.plan["idle_sessions"]))
            levels = list(self.plan.get("levels", [1]))
            out["levels"] = []
            first, rest = levels[:1], levels[1:]
            for concurrency in first:
                before = await self.db_probe() if self.db_probe else None
                level = await self._level(concurrency)
                after = await self.db_probe() if self.db_probe else None
                if before and after:
                    level["storage"] = storage_delta(before, after, level["pipelines"])
                out["levels"].append(level)
            if self.plan.get("conversation_turns"):
                out["conversation"] = await self._conversation(int(self.plan["conversation_turns"]))
            for concurrency in rest:
                out["levels"].append(await self._level(concurrency))
            if self.plan.get("paced"):
                out["paced"] = await self._paced(self.plan["paced"])
            out["peak_rss"] = peak_rss_bytes(self.pid)
            out["rss_end"] = rss_bytes(self.pid)
        finally:
            await self.driver.close()
        out["loadavg_end"] = loadavg()
        return out

    async def _idle(self, count: int) -> dict[str, Any]:
        gc.collect()
        await asyncio.sleep(0.5)
        before = rss_bytes(self.pid) or 0
        semaphore = asyncio.Semaphore(20)

        async def one() -> Session:
            async with semaphore:
                return await self.driver.idle_session()

        sessions = await asyncio.gather(*(one() for _ in range(count)))
        await asyncio.sleep(1.0)
        after = rss_bytes(self.pid) or 0
        for session in sessions:
            await self.driver.close_session(session)
        per = (after - before) / count
        self.log(f"  {self.driver.name}: {count} idle sessions, {per / 1024:.1f} KiB each")
        return {"sessions": count, "rss_before": before, "rss_after": after, "bytes_per_session": per}

    async def _level(self, concurrency: int, runs: int | None = None, label: str = "") -> dict[str, Any]:
        runs = int(self.plan.get("runs", 10)) if runs is None else runs
        rounds = max(1, math.ceil(runs / concurrency))
        results: list[TurnResult] = []

        async def worker() -> None:
            for _ in range(rounds):
                result, _ = await self._pipeline()
                results.append(result)

        cpu0 = cpu_seconds(self.pid)
        client_cpu0 = cpu_seconds(os.getpid())
        fake_cpu0 = cpu_seconds(self.fake_pid) if self.fake_pid else None
        load0 = loadavg()
        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - start
        cpu1 = cpu_seconds(self.pid)
        client_cpu1 = cpu_seconds(os.getpid())
        fake_cpu1 = cpu_seconds(self.fake_pid) if self.fake_pid else None
        stats = await fake_stats(self.fake_url, [r.tag for r in results])
        turns = [analyze(r, stats.get(r.tag, {}), self.driver.streams) for r in results]
        level = summarize_turns(turns)
        ok = sum(1 for t in turns if t["complete"])
        level.update(
            concurrency=concurrency,
            pipelines=len(turns),
            elapsed_s=elapsed,
            throughput_per_min=ok / elapsed * 60 if elapsed else None,
            cpu_ms_per_pipeline=((cpu1 - cpu0) * 1000 / len(turns)) if cpu0 is not None and cpu1 is not None else None,
            client_cpu_ms_per_pipeline=((client_cpu1 - client_cpu0) * 1000 / len(turns))
            if self.pid != os.getpid() and client_cpu0 is not None and client_cpu1 is not None else None,
            fake_cpu_ms_per_pipeline=((fake_cpu1 - fake_cpu0) * 1000 / len(turns))
            if fake_cpu0 is not None and fake_cpu1 is not None else None,
            rss_after=rss_bytes(self.pid),
            loadavg_before=load0,
            loadavg_after=loadavg(),
        )
        self.log(
            f"  {self.driver.name} c={concurrency}{' ' + label if label else ''}: {len(turns)} pipelines in {elapsed:.1f}s, "
            f"{level['throughput_per_min']:.1f}/min, overhead median {_f(level['overhead_ms']['median'])} ms, "
            f"chunk p99 {_f(level['chunk_ms']['p99'])} ms, errors {level['errors']}, lost {level['lost_events']}, "
            f"incomplete {level['incomplete']}"
        )
        return level

    async def _paced(self, paced: dict[str, Any]) -> dict[str, Any]:
        """One level again with the model at another speed: the chunk path without CPU queueing.

        At the main speed the machine is saturated from 10 sessions up (client, model and server
        share its cores), so chunk latency there measures the run queue; at a speed that leaves
        headroom it measures what each contender adds per chunk."""
        pace = {k: paced[k] for k in ("ttft_ms", "tps", "tokens_per_chunk")}
        async with httpx.AsyncClient(base_url=self.fake_url, timeout=30) as http:
            default = (await http.post("/_bench/pace", params=pace)).json()
            try:
                level = await self._level(int(paced["concurrency"]), runs=int(paced.get("runs", paced["concurrency"])),
                                          label=f"paced {pace['tps']:g} tok/s")
            finally:
                restore = self.plan.get("model") or {}
                if restore:
                    await http.post("/_bench/pace", params={k: restore[k] for k in pace})
        level["model"] = default
        return level

    async def _conversation(self, turns: int) -> dict[str, Any]:
        session = await self.driver.new_session()
        results: list[TurnResult] = []
        try:
            for _ in range(turns):
                # The same subject every turn: only the length of the conversation changes.
                result, session = await self._pipeline(session, subject=0)
                results.append(result)
        finally:
            await self.driver.close_session(session)
        stats = await fake_stats(self.fake_url, [r.tag for r in results])
        analyzed = [analyze(r, stats.get(r.tag, {}), self.driver.streams) for r in results]
        self.log(
            f"  {self.driver.name} conversation: overhead per turn "
            + ", ".join(_f(t["overhead_ms"]) for t in analyzed)
        )
        return {
            "turns": turns,
            "overhead_ms": [t["overhead_ms"] for t in analyzed],
            "wall_ms": [t["wall_ms"] for t in analyzed],
            "model_busy_ms": [t["model_busy_ms"] for t in analyzed],
            "prompt_tokens": [t["prompt_tokens"] for t in analyzed],
            "errors": sum(1 for t in analyzed if not t["ok"]),
            "incomplete": sum(1 for t in analyzed if not t["complete"]),
        }


def summarize_turns(turns: list[dict[str, Any]]) -> dict[str, Any]:
    chunk: list[float] = [x for t in turns for x in t["chunk_ms"]]
    errors = [t for t in turns if not t["ok"]]
    return {
        "errors": len(errors),
        "error_samples": sorted({str(t["error"]) for t in errors})[:5],
        "lost_events": sum(t["lost_events"] for t in turns),
        "incomplete": sum(1 for t in turns if not t["complete"]),
        "chunk_mismatched": sum(t["chunk_mismatched"] for t in turns),
        "wall_ms": dist(t["wall_ms"] for t in turns if t["ok"]),
        "model_busy_ms": dist(t["model_busy_ms"] for t in turns if t["ok"]),
        "overhead_ms": dist(t["overhead_ms"] for t in turns if t["ok"]),
        "ttft_ms": dist(t["ttft_ms"] for t in turns if t["ok"]),
        "ttft_overhead_ms": dist(t["ttft_overhead_ms"] for t in turns if t["ok"]),
        "chunk_ms": dist(chunk),
        "model_requests_per_pipeline": dist(t["model_requests"] for t in turns),
    }


def storage_delta(before: dict[str, Any], after: dict[str, Any], turns: int) -> dict[str, Any]:
    tables = sorted(set(before["rows"]) | set(after["rows"]))
    rows = {t: after["rows"].get(t, 0) - before["rows"].get(t, 0) for t in tables}
    total = sum(rows.values())
    return {
        "turns": turns,
        "rows_per_turn": total / turns,
        "rows_per_turn_by_table": {t: n / turns for t, n in rows.items() if n},
        "bytes_per_turn": (after["bytes"] - before["bytes"]) / turns,
        "bytes_total_after": after["bytes"],
    }


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
