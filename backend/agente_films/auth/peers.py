"""Who opened the connection (the transport peer) versus whom a proxy says it forwards.

uvicorn's ProxyHeadersMiddleware replaces `client` with X-Forwarded-For's address when the peer is
in FORWARDED_ALLOW_IPS: right for rate limits and logs (the person behind nginx), wrong for
AUTH_MODE=proxy, whose TRUSTED_PROXIES must be checked against the machine that really connected
(else a client sends `X-Forwarded-For: <the gateway>` and asserts any user, with
FORWARDED_ALLOW_IPS='*'). So `agente-films serve` runs uvicorn with proxy_headers off and the app
installs the middleware itself, behind `KeepTransportPeer`, which notes the peer first.
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

# Where the peer is kept: the request's state (starlette's request.state reads scope["state"]).
PEER_KEY = "transport_peer"
# uvicorn's own default for FORWARDED_ALLOW_IPS.
DEFAULT_FORWARDED_ALLOW_IPS = "127.0.0.1,::1"


class KeepTransportPeer:
    """ASGI middleware, outermost: notes the socket peer's address before anything rewrites it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            scope.setdefault("state", {})[PEER_KEY] = client[0] if client else None
        await self.app(scope, receive, send)


def transport_peer(connection: HTTPConnection) -> str | None:
    """The address that opened this connection (never taken from a header); None when unknown
    (the app ran without KeepTransportPeer: then no address is trusted)."""
    return connection.scope.get("state", {}).get(PEER_KEY)


def forwarded_allow_ips() -> str:
    """The proxies whose X-Forwarded-For/-Proto are believed: FORWARDED_ALLOW_IPS, read as uvicorn
    reads it."""
    return os.environ.get("FORWARDED_ALLOW_IPS", DEFAULT_FORWARDED_ALLOW_IPS)


def install(app: FastAPI) -> None:
    """Adds uvicorn's ProxyHeadersMiddleware and, outside it, KeepTransportPeer. Call it after
    every other add_middleware, so that both wrap everything (rate limits see the forwarded client)."""
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=forwarded_allow_ips())
    app.add_middleware(KeepTransportPeer)
