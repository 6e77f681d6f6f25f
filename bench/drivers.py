"""How each contender is driven: create a session, send one message, watch the whole team answer.

Every driver returns a TurnResult with client-side timings (the wall clock, `time.time()`, so that a
chunk's receive time can be compared with the fake model's emit time on the same machine) and what
it saw (tool calls, text replies, the saved pitch), which the workload checks against what the fake
model says it sent.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

USER_ID = "bench"


@dataclass
class TurnResult:
    tag: str
    ok: bool = False
    error: str | None = None
    t_send: float = 0.0  # wall clock when the message left the client
    wall_ms: float = 0.0  # message sent -> run seen finished
    first_text: float | None = None  # wall clock of the first text chunk received
    # per agent, per streamed message (in order): [(receive wall time, text)]
    chunks: dict[str, list[list[tuple[float, str]]]] = field(default_factory=dict)
    tool_calls: int | None = None
    text_replies: int | None = None
    artifact_saved: bool | None = None
    seq_gaps: int = 0
    frames: int = 0

    @property
    def ttft_ms(self) -> float | None:
        return (self.first_text - self.t_send) * 1000 if self.first_text else None


class ChunkLog:
    """Groups received text chunks per agent and per message id, in order of first appearance."""

    def __init__(self) -> None:
        self._ids: dict[str, dict[str, int]] = defaultdict(dict)
        self.chunks: dict[str, list[list[tuple[float, str]]]] = defaultdict(list)
        self.first: float | None = None

    def add(self, agent: str, message_id: str, text: str, now: float) -> None:
        if self.first is None:
            self.first = now
        ids = self._ids[agent]
        if message_id not in ids:
            ids[message_id] = len(ids)
            self.chunks[agent].append([])
        self.chunks[agent][ids[message_id]].append((now, text))


@dataclass
class Session:
    id: str
    ws: Any = None
    last_seq: int = 0


class Driver:
    name = "driver"
    streams = True  # does the client see text chunks?

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def new_session(self) -> Session:
        raise NotImplementedError

    async def close_session(self, session: Session) -> None: ...

    async def warmed_up(self) -> None:
        """After the warm-up pipelines, before anything is measured."""

    async def idle_session(self) -> Session:
        """A session a user opened and left: for ours over WebSocket, with its socket open."""
        return await self.new_session()

    async def turn(self, session: Session, text: str, tag: str) -> TurnResult:
        raise NotImplementedError

    async def verify(self, session: Session, result: TurnResult) -> None:
        """After the timed part: fill in what the stream itself did not show (POST: the pitch)."""


# --- the floor: ADK's Runner in-process, InMemorySessionService ---------------------------------------


class FloorDriver(Driver):
    name = "floor"
    app_name = "films_floor"

    async def start(self) -> None:
        from google.adk.apps import App
        from google.adk.artifacts import InMemoryArtifactService
        from google.adk.runners import Runner
        from google.adk.sessions import InMemorySessionService

        from bench.team import build_tree

        self.runner = Runner(
            app=App(name=self.app_name, root_agent=build_tree()),
            session_service=InMemorySessionService(),
            artifact_service=InMemoryArtifactService(),
        )

    async def new_session(self) -> Session:
        session = await self.runner.session_service.create_session(app_name=self.app_name, user_id=USER_ID)
        return Session(session.id)

    async def close_session(self, session: Session) -> None:
        # Nothing reads a finished pitch again. Kept in memory, every earlier pitch would lengthen
        # each full garbage collection of this process (the servers keep theirs in the database).
        await self.runner.session_service.delete_session(
            app_name=self.app_name, user_id=USER_ID, session_id=session.id
        )

    async def warmed_up(self) -> None:
        # What ADK and LiteLLM loaded to serve a run stays for good: hidden from the garbage
        # collector, as our server does after its first run (freeze_long_lived_objects).
        gc.collect()
        gc.freeze()

    async def turn(self, session: Session, text: str, tag: str) -> TurnResult:
        from google.adk.agents import RunConfig
        from google.adk.agents.run_config import StreamingMode
        from google.genai import types

        result = TurnResult(tag)
        log = ChunkLog()
        calls = texts = 0
        saved = False
        result.t_send = time.time()
        start = time.monotonic()
        try:
            async for event in self.runner.run_async(
                user_id=USER_ID,
                session_id=session.id,
                new_message=types.UserContent(text),
                run_config=RunConfig(streaming_mode=StreamingMode.SSE),
            ):
                result.frames += 1
                parts = event.content.parts if event.content and event.content.parts else []
                if event.partial:
                    piece = "".join(p.text for p in parts if p.text and not p.thought)
                    if piece:
                        log.add(event.author or "", event.id, piece, time.time())
                    continue
                if event.author == "user":
                    continue
                calls += sum(1 for p in parts if p.function_call is not None)
                texts += 1 if any(p.text and not p.thought for p in parts) else 0
                saved = saved or bool(event.actions.artifact_delta)
                if event.error_code or event.error_message:
                    result.error = f"{event.error_code}: {event.error_message}"
            result.ok = result.error is None
        except Exception as exc:  # the run failed: counted as an error
            result.error = f"{type(exc).__name__}: {exc}"[:500]
        result.wall_ms = (time.monotonic() - start) * 1000
        result.first_text = log.first
        result.chunks = dict(log.chunks)
        result.tool_calls, result.text_replies, result.artifact_saved = calls, texts, saved
        return result


# --- ADK's stock server: get_fast_api_app(...) = `adk api_server`, driven through /run_sse -------------


class StockDriver(Driver):
    name = "stock"

    def __init__(self, base_url: str, app_name: str) -> None:
        self.base_url = base_url
        self.app_name = app_name

    async def start(self) -> None:
        import httpx

        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(600, connect=60),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=1000),
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def new_session(self) -> Session:
        response = await self.http.post(f"/apps/{self.app_name}/users/{USER_ID}/sessions")
        response.raise_for_status()
        return Session(response.json()["id"])

    async def turn(self, session: Session, text: str, tag: str) -> TurnResult:
        result = TurnResult(tag)
        log = ChunkLog()
        calls = texts = 0
        saved = False
        body = {
            "app_name": self.app_name,
            "user_id": USER_ID,
            "session_id": session.id,
            "new_message": {"role": "user", "parts": [{"text": text}]},
            "streaming": True,
        }
        result.t_send = time.time()
        start = time.monotonic()
        try:
            async with self.http.stream("POST", "/run_sse", json=body) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    now = time.time()
                    event = json.loads(line[5:])
                    result.frames += 1
                    if "error" in event and "author" not in event:
                        result.error = str(event["error"])[:500]
                        continue
                    parts = (event.get("content") or {}).get("parts") or []
                    if event.get("partial"):
                        piece = "".join(p.get("text") or "" for p in parts if not p.get("thought"))
                        if piece:
                            log.add(event.get("author") or "", event.get("id") or "", piece, now)
                        continue
                    if event.get("author") == "user":
                        continue
                    calls += sum(1 for p in parts if p.get("functionCall"))
                    texts += 1 if any(p.get("text") and not p.get("thought") for p in parts) else 0
                    saved = saved or bool((event.get("actions") or {}).get("artifactDelta"))
                    if event.get("errorCode") or event.get("errorMessage"):
                        result.error = f"{event.get('errorCode')}: {event.get('errorMessage')}"[:500]
            result.ok = result.error is None
        except Exception as exc:
            result.error = result.error or f"{type(exc).__name__}: {exc}"[:500]
        result.wall_ms = (time.monotonic() - start) * 1000
        result.first_text = log.first
        result.chunks = dict(log.chunks)
        result.tool_calls, result.text_replies, result.artifact_saved = calls, texts, saved
        return result


# --- ours -----------------------------------------------------------------------------------------


class _OursBase(Driver):
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.ws_base = base_url.replace("http://", "ws://", 1)

    async def start(self) -> None:
        import httpx

        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(900, connect=60),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=1000),
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def new_session(self) -> Session:
        response = await self.http.post("/api/v1/sessions", json={"title": "bench"})
        response.raise_for_status()
        return Session(response.json()["id"])


class OursWSDriver(_OursBase):
    """Send the message over the session's WebSocket and follow its frames (AG-UI + seq)."""

    name = "ours-ws"

    async def _connect(self, session: Session) -> None:
        from websockets.asyncio.client import connect

        session.ws = await connect(
            f"{self.ws_base}/api/v1/ws/{session.id}?after=0",
            max_size=None, open_timeout=120, ping_interval=None, compression=None,
        )
        hello = json.loads(await session.ws.recv())
        if hello.get("control") != "hello":
            raise RuntimeError(f"unexpected first frame {hello}")
        session.last_seq = hello["lastSeq"]

    async def new_session(self) -> Session:
        session = await super().new_session()
        await self._connect(session)
        return session

    async def close_session(self, session: Session) -> None:
        if session.ws is not None:
            await session.ws.close()
            session.ws = None

    async def turn(self, session: Session, text: str, tag: str) -> TurnResult:
        result = TurnResult(tag)
        log = ChunkLog()
        calls = texts = 0
        saved = False
        run_id = None
        ws = session.ws
        result.t_send = time.time()
        start = time.monotonic()
        try:
            await ws.send(json.dumps({"type": "message", "content": text}))
            while True:
                raw = await ws.recv()
                now = time.time()
                frame = json.loads(raw)
                result.frames += 1
                seq = frame.get("seq")
                if seq is not None:
                    if seq != session.last_seq + 1:
                        result.seq_gaps += abs(seq - session.last_seq - 1)
                    session.last_seq = seq
                kind = frame.get("type")
                if frame.get("control") == "error":
                    raise RuntimeError(f"{frame.get('code')}: {frame.get('message')}")
                if kind == "RUN_STARTED":
                    run_id = frame.get("runId")
                elif frame.get("runId") != run_id:
                    continue
                if kind == "TEXT_MESSAGE_CONTENT":
                    log.add(frame.get("agent") or "", frame["messageId"], frame["delta"], now)
                elif kind == "TEXT_MESSAGE_END":
                    texts += 1
                elif kind == "TOOL_CALL_START":
                    calls += 1
                elif kind == "CUSTOM" and frame.get("name") == "artifact_saved":
                    saved = True
                elif kind == "CUSTOM" and frame.get("name") == "agent_error":
                    result.error = str(frame.get("value"))[:500]
                elif kind == "RUN_ERROR":
                    result.error = frame.get("message") or "RUN_ERROR"
                    break
                elif kind == "RUN_FINISHED":
                    status = (frame.get("result") or {}).get("status")
                    if status != "completed":
                        result.error = result.error or f"run ended {status}"
                    break
            result.ok = result.error is None
        except Exception as exc:
            result.error = result.error or f"{type(exc).__name__}: {exc}"[:500]
        result.wall_ms = (time.monotonic() - start) * 1000
        result.first_text = log.first
        result.chunks = dict(log.chunks)
        result.tool_calls, result.text_replies, result.artifact_saved = calls, texts, saved
        return result


class OursPostDriver(_OursBase):
    """POST /api/v1/sessions/{id}/messages: answers when the whole run is over (no streaming)."""

    name = "ours-post"
    streams = False

    async def idle_session(self) -> Session:
        return await super().new_session()

    async def turn(self, session: Session, text: str, tag: str) -> TurnResult:
        result = TurnResult(tag)
        result.t_send = time.time()
        start = time.monotonic()
        try:
            response = await self.http.post(f"/api/v1/sessions/{session.id}/messages", json={"content": text})
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
            body = response.json()
            if body["status"] != "completed":
                result.error = f"run ended {body['status']}: {body.get('error')}"
            result.text_replies = len(body.get("answers") or [])
            result.ok = result.error is None
        except Exception as exc:
            result.error = f"{type(exc).__name__}: {exc}"[:500]
        result.wall_ms = (time.monotonic() - start) * 1000
        return result

    async def verify(self, session: Session, result: TurnResult) -> None:
        response = await self.http.get(f"/api/v1/sessions/{session.id}/pitches")
        result.artifact_saved = response.status_code == 200 and bool(response.json())


def new_tag() -> str:
    return "bench-" + uuid.uuid4().hex[:10]


SUBJECTS = ["Ada Lovelace", "Hypatia of Alexandria", "Nikola Tesla", "Marie Curie", "Alan Turing",
            "Hedy Lamarr", "Rosalind Franklin", "Grace Hopper"]


def subject_message(tag: str, index: int = 0) -> str:
    return f"{SUBJECTS[index % len(SUBJECTS)]} {tag}"


async def with_timeout(coro: Any, seconds: float) -> Any:
    async with asyncio.timeout(seconds):
        return await coro
