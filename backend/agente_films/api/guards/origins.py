"""The Origin check on changes: another site's form or fetch is refused before it is read (the
rule of which origins are the app's own is auth/origins.py's)."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from agente_films.api.guards.errors import refuse
from agente_films.auth.origins import UNSAFE_METHODS, origin_allowed
from agente_films.errors import OriginRefused
from agente_films.settings import Settings


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
