"""POST /api/v1/agui: the standard AG-UI endpoint (RunAgentInput in, an SSE stream of events out),
for stock clients such as @ag-ui/client's HttpAgent or CopilotKit.

`threadId` is the session (a UUID; created for the caller on first use), the last user message is
what the team works on, and the answer is the run's frames from the session's stream, exactly as
the WebSocket sends them (extension fields and `seq` included) except that every event carries the
client's `runId`; our own run id stays on RUN_STARTED as `serverRunId` (for GET .../runs/{id}).

The run is a server task: a client that goes away stops reading, not the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from ag_ui.core import RunAgentInput
from ag_ui.encoder import EventEncoder
from fastapi import APIRouter, Body, HTTPException
from fastapi.responses import StreamingResponse
from google.adk.events import Event, EventActions

from agente_films import protocol as p
from agente_films.agents.team import APP_NAME
from agente_films.api.deps import StudioDep, UserId, load_owned_session
from agente_films.api.routes.messages import checked_content
from agente_films.db.repositories import SessionRepository
from agente_films.db.tables import StudioSession, new_id
from agente_films.errors import Refused
from agente_films.runs.bus import EventBus
from agente_films.runs.frames import FrameTranslator
from agente_films.runs.manager import ActiveRun, ServiceUnavailable
from agente_films.runs.track import RunTrack
from agente_films.studio import Studio
from agente_films.text import plain_text_problem

router = APIRouter(tags=["agui"])

# RunAgentInput.state is accepted and ignored except for keys in CLIENT_STATE_KEYS, empty today:
# the session state belongs to the agents. A key listed here is merged into the ADK session state
# before the run; app:, user: and temp: keys are never written, listed or not.
CLIENT_STATE_KEYS: frozenset[str] = frozenset()
_RESERVED_PREFIXES = ("app:", "user:", "temp:")

# An SSE comment this often while no frame comes, so that proxies keep the connection open.
KEEPALIVE_SECONDS = 15.0
# How long after the run ended its last frame may still be on its way; past that the stream is
# ended from the run's own status (the bus lost it), so that every stream ends.
END_GRACE_SECONDS = 5.0
# How often the stream looks at the run while waiting.
POLL_SECONDS = 1.0

KEEPALIVE = ": keep-alive\n\n"

# The client's runId is copied into every event of the stream: a bound on it bounds the answer
# (a 900 KB runId once made a 24 MB stream). AG-UI clients send a UUID or a short name.
MAX_RUN_ID_CHARS = 128
# How much of a refused value an error quotes (a whole 900 KB threadId came back once).
QUOTE_CHARS = 80


def quoted(value: str) -> str:
    """A client's value as an error quotes it: its first QUOTE_CHARS characters."""
    return repr(value[:QUOTE_CHARS]) + (f"... ({len(value)} characters)" if len(value) > QUOTE_CHARS else "")


def checked_run_id(run_id: str) -> str:
    """The client's runId, 1-MAX_RUN_ID_CHARS characters of plain text, else 422."""
    if not 1 <= len(run_id) <= MAX_RUN_ID_CHARS:
        raise Refused(422, f"runId must be 1-{MAX_RUN_ID_CHARS} characters; this one has {len(run_id)}.")
    problem = plain_text_problem(run_id)
    if problem:
        raise Refused(422, f"runId {problem}.")
    return run_id


def sse(frame: dict[str, Any]) -> str:
    """One event as EventEncoder frames it: `data: <json>` and a blank line (LF only)."""
    return f"data: {json.dumps(frame, ensure_ascii=False, separators=(',', ':'), default=str)}\n\n"


def user_text(body: RunAgentInput) -> str:
    """The last user message's text (a string, or the text parts of a list)."""
    for message in reversed(body.messages):
        if getattr(message, "role", None) != "user":
            continue
        content = getattr(message, "content", None)
        if isinstance(content, str):
            return content
        parts = [getattr(part, "text", "") for part in content or () if getattr(part, "type", None) == "text"]
        return "\n".join(part for part in parts if part)
    return ""


def client_state(state: Any) -> dict[str, Any]:
    """What of RunAgentInput.state may be written: allow-listed keys, never app:/user:/temp:."""
    if not isinstance(state, dict):
        return {}
    return {
        key: value
        for key, value in state.items()
        if key in CLIENT_STATE_KEYS and not key.startswith(_RESERVED_PREFIXES)
    }


async def merge_client_state(studio: Studio, row: StudioSession, delta: dict[str, Any]) -> None:
    if not delta:
        return  # always, while CLIENT_STATE_KEYS is empty
    session = await studio.session_service.get_session(app_name=APP_NAME, user_id=row.user_id, session_id=row.id)
    if session is not None:
        await studio.session_service.append_event(
            session, Event(author="user", invocation_id=new_id(), actions=EventActions(state_delta=delta))
        )


async def thread_session(studio: Studio, thread_id: str, user_id: str, text: str) -> StudioSession:
    """The caller's session `thread_id`, created on first use; 404 when another user owns it."""
    async with studio.sessionmaker() as db:
        owner = await SessionRepository(db).owner_of(thread_id)
    if owner is None:
        title = text.splitlines()[0][:80] if text else None
        try:
            return await studio.create_session(user_id, title, session_id=thread_id)
        except Exception:
            # Another request created it meanwhile: whoever won owns it.
            for _ in range(10):
                async with studio.sessionmaker() as db:
                    owner = await SessionRepository(db).owner_of(thread_id)
                if owner is not None:
                    break
                await asyncio.sleep(0.1)
            if owner is None:
                raise
    return await load_owned_session(studio, thread_id, user_id)  # 404 unless it is the caller's


def for_client(frame: dict[str, Any], *, client_run_id: str, session_id: str) -> dict[str, Any]:
    out = {**frame, "runId": client_run_id}
    if out.get("type") in ("RUN_STARTED", "RUN_FINISHED"):
        out["threadId"] = session_id
    if out.get("type") == "RUN_STARTED":
        out["serverRunId"] = frame.get("runId")
    return out


def _fallback_end(run: ActiveRun, session_id: str, started: bool) -> list[dict[str, Any]]:
    """How the run ended, from the run itself, when its last frame never came."""
    translator = FrameTranslator(session_id=session_id, run_id=run.run_id, track=RunTrack())
    frames = [] if started else translator.run_started("", resumed=False, state=None)
    ended = run.status if run.status != "running" else "interrupted"
    frames += translator.run_finished(ended, None, state=None)
    return [p.dump(frame) for frame in frames]


async def agui_stream(
    bus: EventBus,
    run: ActiveRun,
    *,
    session_id: str,
    stream_id: str | None,
    after_seq: int,
    client_run_id: str,
    keepalive_seconds: float | None = None,
) -> AsyncIterator[str]:
    """The SSE text of one run: its frames from the session's stream after `after_seq` (taken
    before the run started, so nothing is missed), keep-alive comments while nothing comes, and
    the end after its RUN_FINISHED or RUN_ERROR. Closing this leaves the run alone."""
    keepalive = KEEPALIVE_SECONDS if keepalive_seconds is None else keepalive_seconds
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def pump() -> None:
        # Its own task: a wait that times out must not cancel (and so end) the subscription.
        after, stream, delay = after_seq, stream_id, 0.5
        while True:
            try:
                async for item in bus.subscribe(session_id, after, stream):
                    if "seq" in item:
                        after = max(after, item["seq"])
                    elif item.get("control") == "resync":
                        stream = item.get("stream")  # a new stream: keep following it
                    await queue.put(item)
                    delay = 0.5
                return  # the session was deleted; the run's end comes from the run
            except Exception:
                await asyncio.sleep(delay)  # the bus (Redis) is down: follow on from `after`
                delay = min(delay * 2, 10.0)

    loop = asyncio.get_running_loop()
    reader = asyncio.create_task(pump(), name=f"agui-{run.run_id}")
    last_sent = loop.time()
    done_since: float | None = None
    started = False
    forwarded = 0  # the last seq sent: a replay after a reconnect sends nothing twice
    try:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), timeout=max(min(keepalive, POLL_SECONDS), 0.001))
            except TimeoutError:
                now = loop.time()
                if run.done.is_set():
                    done_since = now if done_since is None else done_since
                    if now - done_since >= END_GRACE_SECONDS:
                        for frame in _fallback_end(run, session_id, started):
                            yield sse(for_client(frame, client_run_id=client_run_id, session_id=session_id))
                        return
                if now - last_sent >= keepalive:
                    last_sent = now
                    yield KEEPALIVE
                continue
            if "type" not in item or item.get("runId") != run.run_id:
                continue  # control messages, and other runs of the session
            seq = item.get("seq")
            if isinstance(seq, int):
                if seq <= forwarded:
                    continue
                forwarded = seq
            started = started or item["type"] == "RUN_STARTED"
            yield sse(for_client(item, client_run_id=client_run_id, session_id=session_id))
            last_sent = loop.time()
            if item["type"] in p.TERMINAL_TYPES:
                return
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader


@router.post(
    "/agui",
    response_class=StreamingResponse,
    responses={
        200: {"description": "AG-UI events as server-sent events.", "content": {"text/event-stream": {}}},
        404: {"description": "The thread is another user's session."},
        409: {"description": "A run is already in progress in this session."},
        413: {"description": "The message is too long."},
    },
)
async def run_agent(
    body: Annotated[RunAgentInput, Body()], studio: StudioDep, user_id: UserId
) -> StreamingResponse:
    """Runs the team on the last user message in the session `threadId` (created if new) and
    streams the run's AG-UI events. `state` is accepted and ignored except for keys in
    CLIENT_STATE_KEYS (none today). 422 when threadId is not a UUID, runId is not 1-128
    characters of plain text (it is copied into every event), or there is no user message."""
    client_run_id = checked_run_id(body.run_id)
    try:
        thread_id = str(uuid.UUID(body.thread_id))
    except ValueError:
        raise Refused(422, f"threadId must be a UUID (it names the session), not {quoted(body.thread_id)}.") from None
    text = user_text(body)
    if not text.strip():
        raise HTTPException(422, "There is no user message to run on (no user message).")
    text = checked_content(studio, text)
    row = await thread_session(studio, thread_id, user_id, text)
    delta = client_state(body.state)
    if delta and await studio.runs.active_run_id(row.id) is None:
        await merge_client_state(studio, row, delta)
    try:
        # Where the stream is before the run starts: every frame of the run comes after it.
        stream_id, last_seq = await asyncio.wait_for(studio.bus.position(row.id), timeout=10)
    except Exception as exc:
        raise ServiceUnavailable(f"The live stream is unavailable ({type(exc).__name__}).") from exc
    run = await studio.runs.start(session_id=row.id, user_id=row.user_id, text=text)  # 409, 503
    return StreamingResponse(
        agui_stream(
            studio.bus, run, session_id=row.id, stream_id=stream_id, after_seq=last_seq, client_run_id=client_run_id
        ),
        media_type=EventEncoder().get_content_type(),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
