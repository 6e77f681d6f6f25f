"""Branches and comparisons: branch a session at a round or a state version, list its branches,
its outline drafts, and compare two drafts or pitch versions (within a session or across branches)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from sqlalchemy import select

from agente_films import state_keys as keys
from agente_films.agents.team import APP_NAME
from agente_films.api.deps import OwnedSession, StudioDep, UserId, load_owned_session
from agente_films.api.routes.sessions import session_out
from agente_films.api.schemas import BranchIn, CompareOut, CompareSide, DraftOut, SessionOut
from agente_films.branching import STEP_TYPES, BranchRefused, branch_session, version_rounds
from agente_films.db.repositories import SessionRepository
from agente_films.db.tables import AgentEvent, Question, SessionState
from agente_films.runs.rows import title_from_outline
from agente_films.studio import Studio
from agente_films.urls import pitch_urls

router = APIRouter(prefix="/sessions/{session_id}", tags=["branches"])

# State versions are 32-bit integers in the database: a larger one is simply not there.
MAX_VERSION = 2**31 - 1
_REF_FORMS = "draft:<session_id>:<version> or pitch:<session_id>:<filename>:<version>"
# How a draft outside the writers' room came to be, by the kind of its run.
_BY_KIND = {"edit": " · edited by hand", "undo": " · restored by an undo"}


def draft_url(session_id: str, version: int) -> str:
    return f"/api/v1/sessions/{session_id}/drafts/{version}"


async def session_drafts(studio: Studio, session_id: str) -> list[DraftOut]:
    """Every state version that changed the outline to a draft (a new subject's reset to an empty
    outline is not a draft), with who wrote it and in which run and round."""
    async with studio.sessionmaker() as db:
        snapshots = (await db.scalars(
            select(SessionState).where(SessionState.session_id == session_id).order_by(SessionState.version)
        )).all()
        steps = (await db.scalars(
            select(AgentEvent).where(AgentEvent.session_id == session_id, AgentEvent.event_type.in_(STEP_TYPES))
        )).all()
        kinds = {
            question_id: kind for question_id, kind in await db.execute(
                select(Question.id, Question.kind).where(Question.session_id == session_id)
            )
        }
    rounds = version_rounds(steps, snapshots)
    drafts = []
    for snapshot in snapshots:
        outline = str((snapshot.state_value or {}).get(keys.PLOT_OUTLINE) or "")
        if keys.PLOT_OUTLINE not in (snapshot.changed_keys or []) or not outline.strip():
            continue
        number, round_ = len(drafts) + 1, rounds.get(snapshot.version)
        how = f" · round {round_}" if round_ is not None else _BY_KIND.get(kinds.get(snapshot.question_id or ""), "")
        drafts.append(DraftOut(
            number=number, version=snapshot.version, agent=snapshot.agent_name,
            run_id=snapshot.question_id, round=round_, label=f"Draft {number}{how} (v{snapshot.version})",
            title=title_from_outline(outline), created_at=snapshot.created_at,
            download_url=draft_url(session_id, snapshot.version),
        ))
    return drafts


async def draft_text(studio: Studio, session_id: str, version: int) -> tuple[DraftOut, str]:
    draft = next((d for d in await session_drafts(studio, session_id) if d.version == version), None)
    if draft is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"State version {version} of session {session_id} is not an outline draft."
        )
    async with studio.sessionmaker() as db:
        state = await db.scalar(
            select(SessionState.state_value).where(
                SessionState.session_id == session_id, SessionState.version == version
            )
        )
    return draft, str((state or {}).get(keys.PLOT_OUTLINE) or "")


def _bad_ref(ref: str, why: str) -> HTTPException:
    return HTTPException(
        422, f"{ref!r} is not a version reference ({why}); use {_REF_FORMS}."
    )


def parse_ref(ref: str) -> tuple[str, str, str | None, int]:
    """(kind, session id, file name or None, version) of `draft:<session>:<version>` or
    `pitch:<session>:<filename>:<version>`."""
    parts = ref.split(":")
    kind = parts[0]
    if kind not in ("draft", "pitch") or len(parts) != (3 if kind == "draft" else 4):
        raise _bad_ref(ref, "unknown form")
    try:
        session_id = str(uuid.UUID(parts[1]))
    except ValueError:
        raise _bad_ref(ref, f"{parts[1]!r} is not a session id") from None
    if not re.fullmatch(r"\d{1,10}", parts[-1]) or int(parts[-1]) > MAX_VERSION:
        raise _bad_ref(ref, f"{parts[-1]!r} is not a version number")
    filename = parts[2] if kind == "pitch" else None
    if kind == "pitch" and not filename:
        raise _bad_ref(ref, "the file name is empty")
    return kind, session_id, filename, int(parts[-1])


async def compare_side(studio: Studio, user_id: str, ref: str) -> CompareSide:
    kind, session_id, filename, version = parse_ref(ref)
    row = await load_owned_session(studio, session_id, user_id)  # 404 for another user's, as for a missing one
    if kind == "draft":
        draft, text = await draft_text(studio, row.id, version)
        return CompareSide(
            ref=ref, session_id=row.id, kind=kind, label=draft.label, text=text, download_url=draft.download_url
        )
    assert filename is not None
    scope = {"app_name": APP_NAME, "user_id": row.user_id, "session_id": row.id}
    try:
        part = await studio.artifact_service.load_artifact(filename=filename, version=version, **scope)
    except ValueError:
        part = None  # not a plain file name (e.g. "../x"): simply not found
    if part is None or part.inline_data is None or part.inline_data.data is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"No version {version} of pitch document {filename!r} in session {row.id}."
        )
    return CompareSide(
        ref=ref, session_id=row.id, kind=kind, label=f"{filename} version {version}",
        text=part.inline_data.data.decode("utf-8", errors="replace"),
        download_url=pitch_urls(row.id, filename, version)["markdownUrl"],
    )


@router.post("/branches", status_code=status.HTTP_201_CREATED)
async def create_branch(studio: StudioDep, row: OwnedSession, body: BranchIn) -> SessionOut:
    """A new session with what this one had up to a state version (`from_version`) or the end of a
    writers' room round (`from_round`, of `run_id` or the latest run that had it); this session
    stays as it is. 409 during a run; 413 past MAX_BRANCH_EVENTS events."""
    try:
        branch = await branch_session(studio, row, body)
    except BranchRefused as exc:
        raise HTTPException(exc.status_code, str(exc)) from None
    return await session_out(studio, branch)


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
    a: Annotated[str, Query(max_length=400, description=f"{_REF_FORMS}")],
    b: Annotated[str, Query(max_length=400, description=f"{_REF_FORMS}")],
) -> CompareOut:
    """Two outline drafts or pitch document versions side by side, of this session or of any
    other session of the caller (a branch and its parent, typically)."""
    return CompareOut(a=await compare_side(studio, user_id, a), b=await compare_side(studio, user_id, b))
