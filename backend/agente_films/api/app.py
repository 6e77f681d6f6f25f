"""The FastAPI app: REST + WebSocket under /api/v1, /health, /livez, /readyz, and the built frontend at /."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError

from agente_films import __version__, protocol
from agente_films.api.guards import install_security
from agente_films.api.guards.errors import refusal_response
from agente_films.api.schemas import ErrorOut
from agente_films.api.routes import agui, branches, edits, health, messages, pitches, projects, sessions, ws
from agente_films.api.routes import oidc as oidc_routes
from agente_films.api.routes import shares
from agente_films.api.rate_limits import RequestLimits
from agente_films.api.routes import auth as auth_routes
from agente_films.auth import oidc, peers
from agente_films.auth.identity import Authenticator
from agente_films.auth.secrets import load_secret_key
from agente_films.errors import Refused, RunRefused
from agente_films.runs.manager import freeze_long_lived_objects
from agente_films.settings import Settings, get_settings
from agente_films.studio import Studio

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.studio = await Studio.open(settings)
        app.state.auth = Authenticator(settings, app.state.studio.sessionmaker, load_secret_key(settings))
        freeze_long_lived_objects()  # and once more after the first run (RunManager)
        try:
            yield
        finally:
            await app.state.studio.close()

    app = FastAPI(
        title="Agente Films",
        version=__version__,
        description="A team of ADK agents writes film pitches; sessions persist and stream live.",
        lifespan=lifespan,
        # Every refusal's body (errors.py's domain errors), in the schema for the frontend's types.
        responses={"default": {"model": ErrorOut, "description": "Refused: what went wrong and its code."}},
    )
    # Requests per client address, before any routing (inside CORS, so a 429 carries its headers).
    app.add_middleware(RequestLimits)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"], allow_headers=["*"]
        )
    if settings.auth_mode == "oidc":
        oidc.install(app, settings)  # the OIDC client and its hand-shake cookie

    @app.exception_handler(RunRefused)
    async def _run_refused(_request: Request, exc: RunRefused) -> JSONResponse:
        # The socket maps the same errors to error frames (api/routes/ws.py).
        return refusal_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes each bad input back: a 5 MB body comes back whole, and
        # one that cannot be encoded (NaN, a lone surrogate) turns the 422 into a 500.
        def safe(value: object) -> object:  # keys may hold lone surrogates too
            return value if isinstance(value, int) else str(value).encode("utf-8", "backslashreplace").decode()

        errors = [
            {"loc": [safe(part) for part in error.get("loc", ())], "msg": safe(error.get("msg", "")),
             "type": safe(error.get("type", ""))}
            for error in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(IntegrityError)
    async def _conflict(_request: Request, exc: IntegrityError) -> JSONResponse:
        # A row that refers to one deleted meanwhile, or a second create of the same thing: two
        # requests raced. Unexpected errors get a 500 from guards.ErrorNet.
        log.warning("integrity error answered 409: %s", type(exc.orig).__name__)
        return refusal_response(Refused(409, "It changed meanwhile (deleted or created by another request); reload and try again."))

    _document_the_socket(app)
    app.include_router(health.router)
    for module in (sessions, messages, edits, branches, pitches, projects, ws):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(agui.router, prefix="/api/v1")
    app.include_router(shares.router, prefix="/api/v1")
    app.include_router(oidc_routes.router, prefix="/api/v1")
    app.include_router(auth_routes.router, prefix="/api/v1")
    _serve_frontend(app, settings)
    install_security(app, settings)  # its middlewares wrap all the others but the two below
    # Outermost: the transport peer is noted, then X-Forwarded-For/-Proto of FORWARDED_ALLOW_IPS applied.
    peers.install(app)
    return app


def _document_the_socket(app: FastAPI) -> None:
    """The socket's messages are not in any route's body, so FastAPI would leave them out: add
    them to the OpenAPI components, from which the frontend's types are generated."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, component in protocol.wire_schemas().items():
                components[name] = component  # ours: tags required, omitted fields optional
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _serve_frontend(app: FastAPI, settings: Settings) -> None:
    """One process, one port: the built React app at /, index.html for its client-side routes."""
    dist = settings.frontend_dist
    index = dist / "index.html"
    if not index.exists():
        return
    if (dist / "assets").exists():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    async def _spa(path: str) -> FileResponse:
        candidate = (dist / path).resolve()
        if path and candidate.is_file() and dist.resolve() in candidate.parents:
            return FileResponse(candidate)
        if path.startswith(("api/", "health", "livez", "readyz")):
            return JSONResponse({"detail": "Not found"}, status_code=404)  # type: ignore[return-value]
        return FileResponse(index)
