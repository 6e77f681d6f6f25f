"""Share links: the owner makes, lists and revokes read-only links to a session
(/sessions/{id}/shares); anyone with a link reads the session's story and pitch through it
(/shared/{token}), signed in or not. The links themselves live in sharing.py."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from agente_films import state_keys as k
from agente_films.api.deps import OwnedSession, StudioDep
from agente_films.api.routes.pitches import DocumentFormat, pitch_download, session_pitches
from agente_films.api.schemas import SharedPitchOut, ShareIn, ShareOut, SharedViewOut
from agente_films.api.versions import MAX_VERSION
from agente_films.db.repositories import ProjectRepository
from agente_films.db.tables import ShareLink
from agente_films.errors import Refused
from agente_films.settings import Settings
from agente_films.sharing import SharedSession, ShareLinks, shared_state
from agente_films.urls import shared_page, shared_pitch_urls

# One answer for every link that does not open, so a stranger learns nothing from it.
LINK_GONE = "This share link has expired or was revoked."


def get_share_links(request: Request) -> ShareLinks:
    return ShareLinks(request.app.state.studio.sessionmaker, request.app.state.auth.secret_key)


ShareLinksDep = Annotated[ShareLinks, Depends(get_share_links)]


def share_out(links: ShareLinks, link: ShareLink, settings: Settings, request: Request) -> ShareOut:
    # PUBLIC_URL when the app is reached through a proxy under another name; else this request's.
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    return ShareOut(id=link.id, url=base + shared_page(links.token(link)), created_at=link.created_at,
                    expires_at=link.expires_at)


# -- the owner's side: through OwnedSession, so only the owner, and a cookie change needs its CSRF token

owner = APIRouter(prefix="/sessions/{session_id}/shares", tags=["shares"])


@owner.post("", status_code=status.HTTP_201_CREATED)
async def create_share(
    request: Request, studio: StudioDep, row: OwnedSession, links: ShareLinksDep, body: ShareIn | None = None
) -> ShareOut:
    link = await links.create(row, (body or ShareIn()).days)
    return share_out(links, link, studio.settings, request)


@owner.get("")
async def list_shares(request: Request, studio: StudioDep, row: OwnedSession, links: ShareLinksDep) -> list[ShareOut]:
    """The session's live links (revoked and expired ones are left out)."""
    return [share_out(links, link, studio.settings, request) for link in await links.for_session(row)]


@owner.delete("/{share_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_share(row: OwnedSession, links: ShareLinksDep, share_id: uuid.UUID) -> None:
    if not await links.revoke(row, str(share_id)):
        raise Refused(404, f"No live share link {share_id} on this session.")


# -- the public side: no principal at all; read-only (GET only, so other methods get 405)

public = APIRouter(prefix="/shared/{token}", tags=["shared"])


async def get_shared(token: str, links: ShareLinksDep) -> SharedSession:
    shared = await links.resolve(token)
    if shared is None:
        raise Refused(404, LINK_GONE)
    return shared


Shared = Annotated[SharedSession, Depends(get_shared)]


@public.get("")
async def shared_view(studio: StudioDep, shared: Shared, token: str) -> SharedViewOut:
    row = shared.session
    state = shared_state(await studio.adk_state(row))
    async with studio.sessionmaker() as db:
        project = await ProjectRepository(db).latest_for_session(row.id)
    prompt = state.get(k.PROMPT)
    return SharedViewOut(
        title=row.title,
        subject=project.subject if project else prompt if isinstance(prompt, str) else None,
        state=state,
        # The owner's list, cut to what a visitor may see (no notes, run ids or undo marks).
        pitches=[
            SharedPitchOut.model_validate(pitch.model_dump())
            for pitch in await session_pitches(
                studio, row, lambda filename, version: shared_pitch_urls(token, filename, version)
            )
        ],
        created_at=row.created_at,
        updated_at=row.updated_at,
        expires_at=shared.link.expires_at,
    )


@public.get(
    "/pitches/{filename}",
    responses={200: {"content": {"text/markdown": {}, "application/pdf": {}}}},
    response_class=Response,
)
async def shared_pitch(
    studio: StudioDep,
    shared: Shared,
    filename: str,
    version: Annotated[int | None, Query(ge=0, le=MAX_VERSION)] = None,
    format: Annotated[DocumentFormat, Query()] = "markdown",  # noqa: A002
) -> Response:
    try:
        return await pitch_download(studio, shared.session, filename, version, format)
    except Refused as exc:
        if exc.status_code != 404:
            raise
        # The owner's message names the session; a visitor gets one without it.
        raise Refused(404, "This shared session has no such pitch document.") from None


router = APIRouter()
router.include_router(owner)
router.include_router(public)

