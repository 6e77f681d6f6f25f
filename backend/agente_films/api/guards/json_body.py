"""A JSON body read strictly (strict_json) before FastAPI's lenient reader sees it."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agente_films import strict_json
from agente_films.api.guards.errors import refuse
from agente_films.auth.origins import UNSAFE_METHODS
from agente_films.errors import Refused


class StrictJson:
    """A JSON body is read once here, strictly (strict_json): NaN, Infinity, 1e400 and deep
    nesting get 422 with the reason before FastAPI's lenient json.loads sees them. The body
    (already capped by SizeCaps) is then handed on unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    def is_json(scope: Scope) -> bool:
        kind = Headers(scope=scope).get("content-type", "").split(";", 1)[0].strip().lower()
        return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS or not self.is_json(scope):
            return await self.app(scope, receive, send)
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left (or SizeCaps cut it off)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body.strip():
            try:
                strict_json.loads(body)
            except strict_json.BadJson as exc:
                return await refuse(scope, receive, send, Refused(422, f"The JSON body was refused: {exc}."))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
