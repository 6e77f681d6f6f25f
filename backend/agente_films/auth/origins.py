"""Which web origins may drive the app from a browser: its own and CORS_ORIGINS (and PUBLIC_URL).

A browser sends Origin with every cross-site request and every WebSocket handshake, so a page on
another site that tries to start a run, post a form or open the socket is recognised here. Clients
that are not browsers send no Origin and are judged by their credentials alone.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from agente_films.settings import Settings

# The methods that change something: the Origin check (api/guards/) and CSRF (api/deps.py)
# look at these; a GET, HEAD or OPTIONS never changes anything here.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origin(connection: HTTPConnection) -> str:
    """The origin the request was made to (what the page that is the app itself sends)."""
    scheme = {"ws": "http", "wss": "https"}.get(connection.url.scheme, connection.url.scheme)
    return f"{scheme}://{connection.headers.get('host', '')}".lower()


def origin_allowed(connection: HTTPConnection, settings: Settings) -> bool:
    origin = connection.headers.get("origin")
    if origin is None:
        return True  # not a browser, or a same-origin GET: credentials decide
    origin = origin.strip().lower()
    allowed = {own_origin(connection), *(_origin_of(o) for o in settings.cors_origins)}
    if settings.public_url:
        allowed.add(_origin_of(settings.public_url))
    return origin in allowed
