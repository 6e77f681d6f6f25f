"""Headers every answer carries: the Content-Security-Policy and its companions, and no-store,
noindex under share links."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# FastAPI's own pages (Swagger UI, ReDoc): they load their scripts from a CDN and start them
# with an inline script, which gets a policy of its own (see SecurityHeaders).
_DOCS_CDN = "https://cdn.jsdelivr.net"
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


SHARED_PATHS = ("/api/v1/shared/", "/shared/")


class SharedResponseHeaders:
    """Every answer under a share link, the page and the API, errors included: never cached (a
    revoked link must stop working in browsers and proxies too), never indexed by search engines."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(SHARED_PATHS):
            await self.app(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Cache-Control"] = "no-store"
                headers["X-Robots-Tag"] = "noindex, nofollow"
            await send(message)

        await self.app(scope, receive, send_marked)
