"""Branches and comparisons: branch a session at a round or a state version, list its branches,
its outline drafts, and compare two drafts or pitch versions (within a session or across branches)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from agente_films.api.deps import OwnedSession, StudioDep, UserId
from agente_films.api.routes.sessions import session_out
from agente_films.api.schemas import (
    BranchIn,
    CompareOut,
    DraftOut,
    SessionOut,
)
from agente_films.api.versions import (
    MAX_VERSION,
    REF_FORMS,
    compare_side,
    draft_text,
    session_drafts,
)
from agente_films.branching import BranchRequest, branch_session
from agente_films.db.repositories import SessionRepository

router = APIRouter(prefix="/sessions/{session_id}", tags=["branches"])


@router.post("/branches", status_code=status.HTTP_201_CREATED)
async def create_branch(studio: StudioDep, row: OwnedSession, body: BranchIn) -> SessionOut:
    """A new session with what this one had up to a state version (`from_version`) or the end of a
    writers' room round (`from_round`, of `run_id` or the latest run that had it); this session
    stays as it is. 409 during a run; 413 past MAX_BRANCH_EVENTS events."""
    return await session_out(studio, await branch_session(studio, row, BranchRequest(**body.model_dump())))


@router.get("/branches")
async def list_branches(studio: StudioDep, row: OwnedSession) -> list[SessionOut]:
    """The sessions branched from this one (not their own branches), oldest first."""
    async with studio.sessionmaker() as db:
        rows = await SessionRepository(db).branches_of(row.id, row.user_id)
    return [await session_out(studio, branch) for branch in rows]


@router.get("/drafts")
async def list_drafts(studio: StudioDep, row: OwnedSession) -> list[DraftOut]:
    """Every outline draft of the session, oldest first: the screenwriter's, and the producer's
    edits by hand (and undos that brought an outline back)."""
    return await session_drafts(studio, row.id)


@router.get(
    "/drafts/{version}",
    responses={200: {"content": {"text/markdown": {}}}},
    response_class=Response,
)
async def download_draft(
    studio: StudioDep, row: OwnedSession, version: Annotated[int, Path(ge=1, le=MAX_VERSION)]
) -> Response:
    """The outline as it was at that state version, as Markdown (404 unless that version changed it)."""
    _, text = await draft_text(studio, row.id, version)
    return Response(
        content=text.encode("utf-8"), media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="outline-v{version}.md"'},
    )


@router.get("/compare")
async def compare(
    studio: StudioDep,
    row: OwnedSession,
    user_id: UserId,
    a: Annotated[str, Query(max_length=400, description=f"{REF_FORMS}")],
    b: Annotated[str, Query(max_length=400, description=f"{REF_FORMS}")],
) -> CompareOut:
    """Two outline drafts or pitch document versions side by side, of this session or of any
    other session of the caller (a branch and its parent, typically)."""
    return CompareOut(a=await compare_side(studio, user_id, a), b=await compare_side(studio, user_id, b))
