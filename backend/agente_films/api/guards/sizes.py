"""The size caps of a request: its head (431) and its body (413)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agente_films.api.guards.errors import refuse
from agente_films.errors import Refused


class SizeCaps:
    """Requests over the size caps are refused before anything reads them.

    A head (request line and headers) over MAX_HEADER_BYTES gets 431. The server itself
    (HeaderCappedH11Protocol) already refuses a head that outgrows the cap while it arrives; one
    that arrives whole in a single read is measured here.

    A body over MAX_BODY_BYTES gets 413: at once when Content-Length says so, else (chunked) as
    soon as the count passes the cap. Announced bodies up to DISCARD_FACTOR times the cap are then
    read and dropped by the server as they arrive (no memory), so that the client, still sending,
    gets to read its 413 and keeps its connection; a larger or unannounced one closes the
    connection after the 413 (the client may then see the connection cut instead)."""

    DISCARD_FACTOR = 16

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_header_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_body_bytes
        self.max_header_bytes = max_header_bytes

    def too_large(self) -> Refused:
        return Refused(413, f"The request body is over {self.max_bytes} bytes, the most this server reads.")

    def head_size(self, scope: Scope) -> int:
        size = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
        return size + sum(len(name) + len(value) + 4 for name, value in scope["headers"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        if self.head_size(scope) > self.max_header_bytes:
            refusal = Refused(431, f"The request's headers are over {self.max_header_bytes} bytes, the most this server reads.")
            return await refuse(scope, receive, send, refusal, connection="close")
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = Headers(scope=scope).get("content-length")
        if length is not None and length.strip().isdigit() and int(length) > self.max_bytes:
            close = {"connection": "close"} if int(length) > self.max_bytes * self.DISCARD_FACTOR else {}
            return await refuse(scope, receive, send, self.too_large(), **close)
        received = 0
        answered = False  # the 413 went out: whatever the app still sends is dropped
        started = False

        async def counted_receive() -> Message:
            nonlocal received, answered
            message = await receive()
            if message["type"] == "http.request" and not answered:
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    if not started:
                        answered = True
                        await refuse(scope, receive, send, self.too_large(), connection="close")
                    # The app stops reading: to it, the client went away.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted_receive, guarded_send)
