"""The one mapping of a domain refusal (errors.RunRefused) to what a client reads: the REST
answer (api/app.py's handler, the guards, the rate limits) and the socket's error frame (ws.py,
the rate limits), and a last net that answers an unexpected error with a 500 without dropping
the client's connection."""

from __future__ import annotations

import logging
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agente_films import protocol as p
from agente_films.api.schemas import ErrorOut
from agente_films.errors import RunRefused

log = logging.getLogger(__name__)


def refusal_body(exc: RunRefused) -> ErrorOut:
    return ErrorOut(detail=str(exc), code=exc.code, run_id=exc.run_id, **exc.extra())


def refusal_response(exc: RunRefused) -> JSONResponse:
    """A domain error as REST answers it: ErrorOut ({detail, code, run_id?, ...}, no null
    fields) and its headers."""
    body = refusal_body(exc).model_dump(mode="json", exclude_none=True)
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers() or None)


def refusal_frame(exc: RunRefused) -> dict[str, Any]:
    """A domain refusal as the socket says it: the same code, status and fields as REST's body."""
    body = refusal_body(exc)
    return p.dump(p.ControlError(code=body.code, message=body.detail, status=exc.status_code, run_id=body.run_id,
                                 retry_after=body.retry_after))


async def refuse(scope: Scope, receive: Receive, send: Send, refusal: RunRefused, **headers: str) -> None:
    """Answer `refusal` as JSON from a middleware; a socket is refused before its handshake (an
    HTTP answer where the server supports it, else a close)."""
    response = refusal_response(refusal)
    response.headers.update(headers)
    if scope["type"] == "websocket" and "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008, "reason": str(refusal)[:120]})
        return
    await response(scope, receive, send)


class ErrorNet:
    """An error no handler expected: logged, answered 500 in JSON, and kept here. Starlette's own
    net re-raises after answering, and the server then drops the connection under a client that
    was told nothing; the client's next request on it failed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception as exc:
            if started:
                raise  # half an answer went out: only closing the connection tells the client
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"), exc_info=exc)
            body = ErrorOut(detail=f"Internal error: {type(exc).__name__}", code="internal_error")
            response = JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=500)
            await response(scope, receive, send)
