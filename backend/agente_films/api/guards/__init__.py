"""What every request passes before any route: the Host check (DNS rebinding, hosts.py), the
Origin check on changes (another site's form or fetch, origins.py), the size caps (413/431,
sizes.py) and a strict JSON read (NaN, Infinity and deep nesting refused, json_body.py), headers
on every answer (CSP; no-store under share links, headers.py), and a last net that answers an
unexpected error with a 500 without dropping the client's connection (errors.py, which also
holds the one mapping of a domain error to a REST answer and a socket frame).

Pure ASGI middlewares (no BaseHTTPMiddleware: streaming answers and the socket pass through
untouched), installed by `install_security(app, settings)`. The request-header cap (431) is the
server's: server.py's HeaderCappedH11Protocol, which `agente-films serve` runs uvicorn with.
"""

from __future__ import annotations

from fastapi import FastAPI

from agente_films.api.guards.errors import ErrorNet
from agente_films.api.guards.headers import SecurityHeaders, SharedResponseHeaders, inline_script_hashes
from agente_films.api.guards.hosts import HostCheck, allowed_hosts
from agente_films.api.guards.json_body import StrictJson
from agente_films.api.guards.origins import OriginCheck
from agente_films.api.guards.sizes import SizeCaps
from agente_films.settings import Settings


def install_security(app: FastAPI, settings: Settings) -> None:
    """Adds the middlewares, outermost first: headers, the error net, Host, size caps, Origin,
    strict JSON. Call it last in create_app, so that they wrap every other middleware."""
    app.add_middleware(StrictJson)
    app.add_middleware(OriginCheck, settings=settings)
    app.add_middleware(SizeCaps, max_body_bytes=settings.max_body_bytes, max_header_bytes=settings.max_header_bytes)
    app.add_middleware(HostCheck, allowed=allowed_hosts(settings))
    app.add_middleware(ErrorNet)
    app.add_middleware(SharedResponseHeaders)  # no-store, noindex under share links, errors included
    app.add_middleware(
        SecurityHeaders,
        script_hashes=inline_script_hashes((settings.frontend_dist / "index.html")),
        docs_paths=frozenset(p for p in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if p),
    )
