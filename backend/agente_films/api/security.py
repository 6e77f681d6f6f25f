"""What every request passes before any route: the Host check (DNS rebinding), the Origin check
on changes (another site's form or fetch), the body size cap (413) and a strict JSON read
(NaN, Infinity and deep nesting refused), security headers on every answer, and a last net that
answers an unexpected error with a 500 without dropping the client's connection.

Pure ASGI middlewares (no BaseHTTPMiddleware: streaming answers and the socket pass through
untouched), installed by `install_security(app, settings)`. The request-header cap (431) is the
server's: `HeaderCappedH11Protocol`, which `agente-films serve` runs uvicorn with.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import h11
from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from agente_films import strict_json
from agente_films.auth.origins import origin_allowed
from agente_films.errors import OriginRefused, Refused, RunRefused
from agente_films.settings import Settings

log = logging.getLogger(__name__)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
# FastAPI's own pages (Swagger UI, ReDoc): they load their scripts from a CDN and start them
# with an inline script, which gets a policy of its own (see SecurityHeaders).
_DOCS_CDN = "https://cdn.jsdelivr.net"


def refusal_response(exc: RunRefused) -> JSONResponse:
    """A domain error as REST answers it: {detail, code, run_id?, ...} and its headers. The one
    mapping for routes (api/app.py's handler) and for these middlewares."""
    body: dict[str, object] = {"detail": str(exc), "code": exc.code}
    if exc.run_id is not None:
        body["run_id"] = exc.run_id
    body.update(exc.extra())
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers() or None)


def install_security(app: FastAPI, settings: Settings) -> None:
    """Adds the middlewares, outermost first: headers, the error net, Host, size caps, Origin,
    strict JSON. Call it last in create_app, so that they wrap every other middleware."""
    app.add_middleware(StrictJson)
    app.add_middleware(OriginCheck, settings=settings)
    app.add_middleware(SizeCaps, max_body_bytes=settings.max_body_bytes, max_header_bytes=settings.max_header_bytes)
    app.add_middleware(HostCheck, allowed=allowed_hosts(settings))
    app.add_middleware(ErrorNet)
    app.add_middleware(
        SecurityHeaders,
        script_hashes=inline_script_hashes((settings.frontend_dist / "index.html")),
        docs_paths=frozenset(p for p in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if p),
    )


# Host ------------------------------------------------------------------------------------------


def allowed_hosts(settings: Settings) -> list[str]:
    """Loopback names, HOST, ALLOWED_HOSTS and PUBLIC_URL's host ("*" in ALLOWED_HOSTS: any)."""
    names = [*LOOPBACK_NAMES, settings.host, *settings.allowed_hosts]
    if settings.public_url:
        names.append(urlsplit(settings.public_url).hostname or "")
    return [name.strip().strip("[]").rstrip(".").lower() for name in names if name.strip()]


def host_name(header: str | None) -> str | None:
    """The name in a Host header ("example.com:8000" -> "example.com", "[::1]:80" -> "::1")."""
    if not header:
        return None
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        return header[1:end] if end > 0 else None
    name = header.rsplit(":", 1)[0] if header.count(":") == 1 else header
    return name.rstrip(".") or None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostCheck:
    """Answers only to the host names it serves. DNS rebinding points a name the attacker owns at
    this server; the browser then sends that name as Host, and it is refused here. An address
    (127.0.0.1, 10.0.0.5, [::1]) cannot be rebound, so any IP address passes: a load balancer's
    health check or a LAN client that uses the address needs no configuration."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = frozenset(allowed)
        self.any = "*" in self.allowed
        self.suffixes = tuple(name[1:] for name in self.allowed if name.startswith("*."))

    def serves(self, name: str | None) -> bool:
        if name is None:
            return False
        return name in self.allowed or _is_ip(name) or (bool(self.suffixes) and name.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.any or scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        header = Headers(scope=scope).get("host")
        if self.serves(host_name(header)):
            return await self.app(scope, receive, send)
        shown = (header or "")[:100]
        refusal = Refused(400, f"Host {shown!r} is not served here; the server's ALLOWED_HOSTS setting lists the names it answers to.")
        await refuse(scope, receive, send, refusal)


async def refuse(scope: Scope, receive: Receive, send: Send, refusal: RunRefused, **headers: str) -> None:
    """Answer `refusal` as JSON; a socket is refused before its handshake (an HTTP answer where
    the server supports it, else a close)."""
    response = refusal_response(refusal)
    response.headers.update(headers)
    if scope["type"] == "websocket" and "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008, "reason": str(refusal)[:120]})
        return
    await response(scope, receive, send)


# Origin ----------------------------------------------------------------------------------------


class OriginCheck:
    """A change (POST, PUT, PATCH, DELETE) from a browser page of another site is refused (403
    origin_refused) before it is read: a form or a "simple" fetch (Content-Type text/plain)
    needs no CORS preflight, so without this it would run. Browsers name the page's origin in
    Origin, and say cross-site in Sec-Fetch-Site; scripts and the CLI send neither and pass."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            return await self.app(scope, receive, send)
        connection = HTTPConnection(scope)
        origin = connection.headers.get("origin")
        if origin is not None:
            allowed = origin_allowed(connection, self.settings)
        else:  # a browser that left Origin out still says where the request comes from
            allowed = connection.headers.get("sec-fetch-site", "").lower() != "cross-site"
        if allowed:
            return await self.app(scope, receive, send)
        await refuse(scope, receive, send, OriginRefused(origin if origin is not None else "another site"))


# Body ------------------------------------------------------------------------------------------


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


# Errors ----------------------------------------------------------------------------------------


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
            response = JSONResponse(
                {"detail": f"Internal error: {type(exc).__name__}", "code": "internal_error"}, status_code=500
            )
            await response(scope, receive, send)


# Headers ---------------------------------------------------------------------------------------

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)
_HOST_SAFE = re.compile(r"[a-z0-9.\-]+(:\d{1,5})?|\[[0-9a-f:.]+\](:\d{1,5})?")


def inline_script_hashes(html: bytes | Path) -> list[str]:
    """CSP hashes ('sha256-...') of the inline scripts of a page (the built UI's index.html runs
    one before the first paint, to apply the saved theme)."""
    if isinstance(html, Path):
        try:
            html = html.read_bytes()
        except OSError:
            return []
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    ]


class SecurityHeaders:
    """On every HTTP answer: a Content-Security-Policy with no inline scripts but the built UI's
    own (by hash), no framing (clickjacking), no MIME sniffing, no Referer to other sites.

    connect-src names the socket's ws:/wss: origin for the request's Host (already checked by
    HostCheck) besides 'self': browsers that predate CSP 3 do not count ws: as 'self'."""

    def __init__(self, app: ASGIApp, script_hashes: list[str], docs_paths: frozenset[str]) -> None:
        self.app = app
        self.script_src = " ".join(["'self'", *script_hashes])
        self.docs_paths = docs_paths

    def policy(self, scope: Scope, docs_hashes: list[str] | None = None) -> str:
        host = (Headers(scope=scope).get("host") or "").lower()
        sockets = f" ws://{host} wss://{host}" if _HOST_SAFE.fullmatch(host) else ""
        if docs_hashes is not None:  # Swagger UI / ReDoc: their CDN, their inline start-up script
            return (
                f"default-src 'self'; script-src 'self' {_DOCS_CDN} {' '.join(docs_hashes)}; "
                f"style-src 'self' {_DOCS_CDN} 'unsafe-inline' https://fonts.googleapis.com; "
                "font-src 'self' https://fonts.gstatic.com; "
                "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; worker-src 'self' blob:; "
                f"connect-src 'self'{sockets}; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
                "form-action 'self'"
            )
        return (
            f"default-src 'self'; script-src {self.script_src}; style-src 'self'; img-src 'self' data:; "
            f"font-src 'self'; connect-src 'self'{sockets}; object-src 'none'; frame-ancestors 'none'; "
            "base-uri 'none'; form-action 'self'"
        )

    def stamp(self, message: Message, policy: str) -> None:
        headers = MutableHeaders(scope=message)
        headers.setdefault("content-security-policy", policy)
        headers.setdefault("x-content-type-options", "nosniff")
        headers.setdefault("x-frame-options", "DENY")
        headers.setdefault("referrer-policy", "no-referrer")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        if scope["type"] == "http" and scope["path"] in self.docs_paths:
            return await self.docs(scope, receive, send)

        async def stamped_send(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.http.response.start"):
                self.stamp(message, self.policy(scope))
            await send(message)

        await self.app(scope, receive, stamped_send)

    async def docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastAPI renders these pages itself (no user data in them): their inline script is
        allowed by its hash, so the page has no 'unsafe-inline' for scripts either."""
        start: Message | None = None
        body: list[bytes] = []

        async def held_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body" and start is not None:
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                page = b"".join(body)
                self.stamp(start, self.policy(scope, inline_script_hashes(page)))
                await send(start)
                await send({"type": "http.response.body", "body": page})
                return
            await send(message)

        await self.app(scope, receive, held_send)


# Request headers (the server) ------------------------------------------------------------------


class HeaderCappedH11Protocol(H11Protocol):
    """uvicorn's h11 server, answering 431 where it answers 400 for a request head (request line
    and headers) over `h11_max_incomplete_event_size` bytes. h11 holds at most that much (plus
    one read) of an unfinished head, then refuses it and the connection closes: ten clients each
    sending an endless header cost kilobytes, not the gigabytes they send. (uvicorn's default
    parser, httptools, keeps growing an unfinished header with no limit.)"""

    def send_400_response(self, msg: str) -> None:
        limit = self.config.h11_max_incomplete_event_size
        buffered, _ = self.conn.trailing_data
        if limit is None or self.conn.their_state is not h11.ERROR or len(buffered) <= limit:
            return super().send_400_response(msg)
        body = json.dumps({
            "detail": f"The request's headers are over {limit} bytes, the most this server reads.",
            "code": "too_large",
        }).encode()
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        for event in (
            h11.Response(status_code=431, headers=headers, reason=b"Request Header Fields Too Large"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event))
        self.transport.close()


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn.run's arguments for the size caps: the request head (431) and a socket frame
    (a larger one closes the socket with 1009, message too big)."""
    return {
        "http": HeaderCappedH11Protocol,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "ws_max_size": settings.max_body_bytes,
    }
