"""Where HTTP and the socket meet the rate limits (agente_films/rate_limits.py): requests per
client address before routing (RequestLimits), requests per user once the caller is known, each
socket's place among its user's open sockets, and sign-in attempts."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketState

from agente_films.api.guards.errors import refusal_frame, refusal_response
from agente_films.errors import RateLimited
from agente_films.rate_limits import OPEN_SOCKETS, SOCKET_LEASE_SECONDS, RateLimits, RedisSockets

# The socket's close code for a refusal, beside ws.py's 4401/4403/4404 (HTTP's status + 4000).
CLOSE_RATE_LIMITED = 4429
API_PREFIX = "/api/"


def client_address(scope: Scope) -> str:
    """The client: the socket peer, or X-Forwarded-For's address when that peer is a proxy in
    FORWARDED_ALLOW_IPS (uvicorn's ProxyHeadersMiddleware, auth/peers.py; a client's own header
    is never read). IPv6 counts per /64: one host usually holds a whole /64
    and could change address at every request."""
    client = scope.get("client")
    host = client[0] if client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:100] or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)



def limits_of(app: Any) -> RateLimits | None:
    studio = getattr(app.state, "studio", None)
    return getattr(studio, "limits", None)


# -- requests per address: before routing ---------------------------------------------------------


class RequestLimits:
    """ASGI middleware: counts each request (and socket handshake) per client address before any
    routing, body reading or database work, and answers a refusal itself, as the app's handler
    of RunRefused does (guards/errors.py's refusal_response)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not _exempt(scope.get("path", "")):
            limits = limits_of(scope["app"])
            if limits is not None:
                try:
                    await limits.request_from(client_address(scope))
                except RateLimited as exc:
                    await _refuse(scope, receive, send, exc)
                    return
        await self.app(scope, receive, send)


def _exempt(path: str) -> bool:
    # Only the API (and its socket) is counted: the UI's page, scripts, fonts and icon are files
    # a browser fetches on every visit, and /health is what load balancers poll.
    return not path.startswith(API_PREFIX)


async def _refuse(scope: Scope, receive: Receive, send: Send, exc: RateLimited) -> None:
    if scope["type"] == "websocket":
        await refuse_socket(WebSocket(scope, receive, send), exc)
        return
    await refusal_response(exc)(scope, receive, send)


async def refuse_socket(websocket: WebSocket, exc: RateLimited) -> None:
    """A refused socket gets an error frame (a browser cannot read a refused handshake) and a
    close with 4429."""
    if websocket.application_state == WebSocketState.CONNECTING:
        await websocket.accept()
    await websocket.send_text(json.dumps(refusal_frame(exc), ensure_ascii=False))
    await websocket.close(code=CLOSE_RATE_LIMITED, reason="rate limited")


# -- sockets per user: held while open ------------------------------------------------------------


class SocketSlot:
    """One socket's place among its user's open sockets: taken once the user is known, given
    back when the route ends, however it ends (socket_slot's teardown)."""

    def __init__(self, limits: RateLimits | None) -> None:
        self.limits = limits
        self.socket_id = uuid.uuid4().hex
        self.user_id: str | None = None
        self._renewer: asyncio.Task | None = None

    async def take(self, user_id: str) -> None:
        """RateLimited when the user has as many sockets open as allowed."""
        if self.limits is None or not await self.limits.take_socket(user_id, self.socket_id):
            return
        self.user_id = user_id
        if isinstance(self.limits.sockets, RedisSockets):
            self._renewer = asyncio.create_task(self._renew_while_open(), name=f"socket-lease-{self.socket_id}")

    async def _renew_while_open(self) -> None:
        assert self.limits is not None and self.user_id is not None
        while True:
            await asyncio.sleep(SOCKET_LEASE_SECONDS / 3)
            try:
                await self.limits.sockets.renew(self.user_id, self.socket_id)
            except Exception as exc:  # the lease may run out meanwhile: one socket uncounted
                self.limits.storage_failed(OPEN_SOCKETS.name, exc)

    async def give_back(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._renewer
        if self.limits is not None and self.user_id is not None:
            user_id, self.user_id = self.user_id, None
            try:
                await self.limits.sockets.give_back(user_id, self.socket_id)
            except Exception as exc:  # with Redis the lease runs out by itself
                self.limits.storage_failed(OPEN_SOCKETS.name, exc)


async def socket_slot(websocket: WebSocket) -> AsyncIterator[SocketSlot]:
    slot = SocketSlot(limits_of(websocket.app))
    try:
        yield slot
    finally:
        await slot.give_back()


SocketSlotDep = Annotated[SocketSlot, Depends(socket_slot)]


# -- requests per user, and sign-in attempts ---------------------------------------------------------------------------------


async def count_request_by(request: Request, user_id: str) -> None:
    """For get_principal, once the caller is known: one request of `user_id`."""
    limits = limits_of(request.app)
    if limits is not None:
        await limits.request_by(user_id)


async def count_sign_in_attempt(request: Request, username: str) -> None:
    """For the sign-in and sign-up routes, before the password is looked at: one attempt for the
    account named and from the caller's address (RateLimited past either limit)."""
    limits = limits_of(request.app)
    if limits is not None:
        await limits.sign_in_attempt(client_address(request.scope), username)
