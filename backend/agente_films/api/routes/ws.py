"""WebSocket /api/v1/ws/{session_id}: the live stream of a session's runs, with replay.

Query: `after` (last seq the client saw), `stream` (the stream id from the hello; a different one
means the server restarted). The caller is authenticated like REST (the sign-in cookie or an
Authorization: Bearer token, auth/identity.py) and a browser's Origin must be the app's own. Client frames: `protocol.ClientFrame`. The server sends
AG-UI events of the session's stream (with a `seq`) and control messages of this connection
(`protocol.ControlMessage`: a `control` tag and no `type`), all defined in `protocol.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from starlette.websockets import WebSocketState

from agente_films import protocol as p
from agente_films import strict_json
from agente_films.api.deps import load_owned_session
from agente_films.api.guards.errors import refusal_frame
from agente_films.api.rate_limits import SocketSlotDep, refuse_socket
from agente_films.auth.identity import Authenticator
from agente_films.auth.origins import origin_allowed
from agente_films.api.routes.messages import checked_content
from agente_films.db.tables import StudioSession
from agente_films.errors import NoActiveRun, RateLimited, RunRefused, SessionNotFound
from agente_films.studio import Studio

log = logging.getLogger(__name__)

router = APIRouter(tags=["websocket"])

# RFC 6455: a frame of a kind the endpoint cannot take (binary: ours are JSON text).
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_NOT_SIGNED_IN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
# An open socket identifies its caller again this often (and before each message or cancel).
REIDENTIFY_SECONDS = 60.0


def error_frame(code: p.ErrorCode, message: str, status: int, run_id: str | None = None) -> dict[str, Any]:
    return p.dump(p.ControlError(code=code, message=message, status=status, run_id=run_id))


class Connection:
    def __init__(self, websocket: WebSocket, studio: Studio, row: StudioSession, auth: Authenticator) -> None:
        self.websocket = websocket
        self.studio = studio
        self.row = row  # row.user_id: who the handshake identified
        self.auth = auth
        self._send_lock = asyncio.Lock()

    async def still_signed_in(self) -> bool:
        """Identifies the caller again, from the handshake's own credentials (cookie, Bearer
        token, gateway header): a sign-out, a password change, a revoked token or a removed
        account ends the socket too. Says not_signed_in and closes 4401 when the caller is gone
        or is someone else now."""
        # Shielded: the socket closing cancels the periodic check, and a lookup cancelled inside
        # its transaction can leave SQLite's write lock behind (the next request: "database is
        # locked"). The lookup finishes on its own; only the wait for it is cancelled.
        principal = await asyncio.shield(self.auth.identify(self.websocket))
        if principal is not None and principal.user_id == self.row.user_id:
            return True
        await self.send(error_frame("not_signed_in", "Your sign-in has ended; sign in again.", 401))
        await self.close(CLOSE_NOT_SIGNED_IN, "not signed in")
        return False

    async def watch_sign_in(self) -> None:
        """Checks the sign-in every REIDENTIFY_SECONDS while the socket is open, so that one that
        only listens ends too."""
        while self.websocket.application_state == WebSocketState.CONNECTED:
            await asyncio.sleep(REIDENTIFY_SECONDS)
            try:
                if not await self.still_signed_in():
                    return
            except Exception as exc:  # the database briefly unreachable: the next check decides
                log.warning("socket of session %s: sign-in check failed (%s)", self.row.id, type(exc).__name__)

    async def send(self, frame: dict[str, Any]) -> None:
        text = json.dumps(frame, ensure_ascii=False, default=str)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a client: as a \ud800 escape it is text
            text = json.dumps(frame, default=str)
        async with self._send_lock:
            if self.websocket.application_state == WebSocketState.CONNECTED:
                await self.websocket.send_text(text)

    async def close(self, code: int, reason: str) -> None:
        async with self._send_lock:
            if self.websocket.application_state == WebSocketState.CONNECTED:
                await self.websocket.close(code=code, reason=reason)

    async def forward(self, after: int, stream: str | None) -> None:
        """Follow the session's stream; if the bus (Redis) goes away, say so and pick up again
        from the last frame sent once it is back."""
        delay = 0.5
        while True:
            try:
                async for frame in self.studio.bus.subscribe(self.row.id, after, stream):
                    await self.send(frame)
                    if "seq" in frame:
                        after = frame["seq"]
                    elif frame.get("control") == "resync":
                        stream, after = frame["stream"], 0
                    delay = 0.5
                return
            except (WebSocketDisconnect, RuntimeError):
                return
            except Exception as exc:
                await self.send(
                    error_frame("stream_unavailable", f"The live stream is unavailable ({type(exc).__name__}); retrying.", 503)
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def relay_announcements(self) -> None:
        """How a run ended, from this process, when the stream could not carry it (Redis down)."""
        with self.studio.announcer.listen(self.row.id) as queue:
            while True:
                await self.send(await queue.get())

    async def handle(self, raw: str) -> None:
        if len(raw) > self.studio.settings.max_message_chars * 2 + 1024:
            await self.send(error_frame("frame_too_large", "The frame is too large.", 413))
            return
        try:
            frame = strict_json.loads(raw)  # NaN, Infinity and deep nesting refused too
        except strict_json.BadJson as exc:
            await self.send(error_frame("bad_frame", f"Frames must be JSON objects; this one was refused: {exc}.", 400))
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.send(error_frame("bad_frame", 'Frames need a string "type".', 400))
            return
        kind = frame["type"]
        if kind == "ping":
            await self.send(p.dump(p.Pong()))
        elif kind in ("message", "cancel") and not await self.still_signed_in():
            return
        elif kind == "message":
            await self._message(frame)
        elif kind == "cancel":
            if await self.studio.runs.active_run_id(self.row.id) is None:
                await self.send(refusal_frame(NoActiveRun()))
            else:
                # Cancelling waits for the run to stop; the reader stays free meanwhile.
                asyncio.create_task(self.studio.runs.cancel(self.row.id))
        else:
            await self.send(
                error_frame("unknown_type", f"Unknown frame type {kind!r}; use message, cancel or ping.", 400)
            )

    async def _message(self, frame: dict[str, Any]) -> None:
        try:
            message = p.SendMessage.model_validate(frame)
        except ValidationError as exc:
            where = ".".join(str(part) for part in exc.errors()[0]["loc"])
            await self.send(error_frame("bad_frame", f"Bad message frame at {where!r}: {exc.errors()[0]['msg']}.", 400))
            return
        try:
            # The session may have been deleted since the socket opened.
            await load_owned_session(self.studio, self.row.id, self.row.user_id)
            text = checked_content(self.studio, message.content)
            # A run starts and its frames follow; or, during a run, a note's acknowledgement
            # (note_received) comes on the stream.
            await self.studio.runs.say(
                session_id=self.row.id, user_id=self.row.user_id, text=text, direction=list(message.direction)
            )
        except RunRefused as exc:  # the same errors as REST's (api/app.py), as frames
            await self.send(refusal_frame(exc))


@router.websocket("/ws/{session_id}")
async def session_socket(
    websocket: WebSocket,
    session_id: str,
    slot: SocketSlotDep,
    after: Annotated[int, Query(ge=0, le=2**53 - 1)] = 0,  # a JavaScript number
    stream: Annotated[str | None, Query(max_length=100)] = None,
) -> None:
    studio: Studio = websocket.app.state.studio
    auth: Authenticator = websocket.app.state.auth
    await websocket.accept()
    # Refusals are told in a frame before the close: a browser cannot read a refused handshake.
    if not origin_allowed(websocket, studio.settings):
        origin = websocket.headers.get("origin", "")
        await websocket.send_text(json.dumps(error_frame("origin_refused", f"Sockets from {origin[:100]!r} are not allowed.", 403)))
        await websocket.close(code=CLOSE_FORBIDDEN, reason="origin not allowed")
        return
    principal = await auth.identify(websocket)
    if principal is None:
        await websocket.send_text(json.dumps(error_frame("not_signed_in", "Sign in first.", 401)))
        await websocket.close(code=CLOSE_NOT_SIGNED_IN, reason="not signed in")
        return
    try:
        await slot.take(principal.user_id)  # sockets per user, given back when this route ends
    except RateLimited as exc:
        await refuse_socket(websocket, exc)
        return
    try:
        try:
            valid_id = str(uuid.UUID(session_id))
        except ValueError:
            raise SessionNotFound(session_id, f"{session_id!r} is not a valid session id.") from None
        row = await load_owned_session(studio, valid_id, principal.user_id)
    except SessionNotFound as exc:
        await websocket.send_text(json.dumps(refusal_frame(exc)))
        await websocket.close(code=CLOSE_NOT_FOUND)
        return
    connection = Connection(websocket, studio, row, auth)
    try:
        stream_id, last_seq = await studio.bus.position(row.id)
    except Exception as exc:  # Redis down: the socket cannot follow the stream yet
        stream_id, last_seq = None, 0
        await connection.send(error_frame("stream_unavailable", f"The live stream is unavailable ({type(exc).__name__}).", 503))
    active_run_id = await studio.runs.active_run_id(row.id)
    await connection.send(
        p.dump(
            p.Hello(
                session_id=row.id,
                stream=stream_id,
                last_seq=last_seq,
                active_run_id=active_run_id,
                model=studio.settings.llm_model,
            )
        )
    )
    helpers = [
        asyncio.create_task(connection.forward(after, stream)),
        asyncio.create_task(connection.relay_announcements()),
        asyncio.create_task(connection.watch_sign_in()),
    ]
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            if message.get("text") is None:
                await connection.close(CLOSE_UNSUPPORTED_DATA, "binary frames are not accepted; send JSON text frames")
                break
            try:
                await connection.handle(message["text"])
            except WebSocketDisconnect:
                raise
            except Exception as exc:  # a bug, not the client's doing: say so, keep the socket
                log.exception("socket frame of session %s failed", row.id, exc_info=exc)
                await connection.send(error_frame("internal_error", f"Internal error: {type(exc).__name__}.", 500))
    except WebSocketDisconnect:
        pass
    finally:
        for task in helpers:
            task.cancel()
        for task in helpers:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
