"""FastAPI dependencies: the studio, the signed-in caller (auth/identity.py), and the session they own."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from agente_films.api.rate_limits import count_request_by
from agente_films.auth.identity import CSRF_HEADER, Authenticator
from agente_films.auth.origins import UNSAFE_METHODS
from agente_films.auth.principal import Principal
from agente_films.errors import CsrfRefused, NotSignedIn, SessionArchived, SessionNotFound

from agente_films.db.repositories import SessionRepository
from agente_films.db.tables import StudioSession
from agente_films.studio import Studio

def get_studio(request: Request) -> Studio:
    return request.app.state.studio


StudioDep = Annotated[Studio, Depends(get_studio)]


def get_authenticator(connection: HTTPConnection) -> Authenticator:
    return connection.app.state.auth


AuthDep = Annotated[Authenticator, Depends(get_authenticator)]

async def get_principal(request: Request, auth: AuthDep) -> Principal:
    """The signed-in caller (401 otherwise). A change made with the sign-in cookie (or, in
    AUTH_MODE=proxy, the gateway's) must carry the page's CSRF token: another site's form or fetch
    can make the browser send the cookie, not the token. Bearer tokens are never sent by a browser
    by itself, so they need none."""
    principal = await auth.identify(request)
    if principal is None:
        raise NotSignedIn()
    if principal.by_browser and request.method in UNSAFE_METHODS:
        if not auth.csrf_ok(principal, request.headers.get(CSRF_HEADER)):
            raise CsrfRefused()
    await count_request_by(request, principal.user_id)  # requests per user: 429 past the limit
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]


def get_user_id(principal: CurrentUser) -> str:
    return principal.user_id


UserId = Annotated[str, Depends(get_user_id)]


async def load_owned_session(studio: Studio, session_id: str, user_id: str) -> StudioSession:
    async with studio.sessionmaker() as db:
        row = await SessionRepository(db).get(session_id, user_id)
    if row is None:
        raise SessionNotFound(session_id)
    return row


async def get_owned_session(session_id: uuid.UUID, studio: StudioDep, user_id: UserId) -> StudioSession:
    return await load_owned_session(studio, str(session_id), user_id)


OwnedSession = Annotated[StudioSession, Depends(get_owned_session)]


def writable(row: StudioSession) -> StudioSession:
    """The session, unless it is archived (retention.py): then 423 and nothing changes. Runs and
    producer's changes from every transport are refused in RunManager._claim as well."""
    if row.archived_at is not None:
        raise SessionArchived()
    return row


async def load_writable_session(studio: Studio, session_id: str, user_id: str) -> StudioSession:
    return writable(await load_owned_session(studio, session_id, user_id))


def get_writable_session(row: OwnedSession) -> StudioSession:
    return writable(row)


# For every REST route that changes the session (read and download routes take OwnedSession).
WritableSession = Annotated[StudioSession, Depends(get_writable_session)]
