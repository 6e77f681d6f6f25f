"""FastAPI dependencies: the studio, the calling user, and the session they own."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status

from agente_films.db.repositories import SessionRepository
from agente_films.db.tables import StudioSession
from agente_films.studio import Studio

_USER_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")


def get_studio(request: Request) -> Studio:
    return request.app.state.studio


StudioDep = Annotated[Studio, Depends(get_studio)]


def check_user_id(value: str | None, default: str) -> str:
    if value is None or value == "":
        return default
    if not _USER_ID.match(value):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            "X-User-Id must be 1-128 characters of letters, digits, '_', '.', '@' or '-'.",
        )
    return value


def get_user_id(
    studio: StudioDep,
    x_user_id: Annotated[str | None, Header(description="Owner of the sessions; defaults to the local user.")] = None,
) -> str:
    # Embedded mode has a single local user; a gateway in front of the API can set X-User-Id.
    return check_user_id(x_user_id, studio.settings.default_user_id)


UserId = Annotated[str, Depends(get_user_id)]


async def load_owned_session(studio: Studio, session_id: str, user_id: str) -> StudioSession:
    async with studio.sessionmaker() as db:
        row = await SessionRepository(db).get(session_id, user_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Session {session_id} not found (it may have been deleted).")
    return row


async def get_owned_session(session_id: uuid.UUID, studio: StudioDep, user_id: UserId) -> StudioSession:
    return await load_owned_session(studio, str(session_id), user_id)


OwnedSession = Annotated[StudioSession, Depends(get_owned_session)]
