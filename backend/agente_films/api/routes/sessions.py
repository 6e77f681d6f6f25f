"""Sessions: create, list, get, rename, delete, archive and unarchive; their state, state snapshots and history."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from agente_films import protocol
from agente_films.api.deps import OwnedSession, StudioDep, UserId, WritableSession, load_owned_session
from agente_films.api.schemas import (
    MAX_OFFSET,
    AgentEventOut,
    AnswerOut,
    HistoryItem,
    HistoryOut,
    QuestionOut,
    ReasoningOut,
    SessionCreate,
    SessionOut,
    SessionPage,
    SessionUpdate,
    StateOut,
    StateSnapshotOut,
    StateVersionOut,
    UsageOut,
)
from agente_films.api.versions import MAX_VERSION
from agente_films.db.repositories import (
    AgentEventRepository,
    AnswerRepository,
    ProjectRepository,
    QuestionRepository,
    ReasoningRepository,
    SessionRepository,
    StateRepository,
    UsageRepository,
)
from agente_films.db.tables import StudioSession
from agente_films.errors import Refused
from agente_films.retention import archive_session, unarchive_session
from agente_films.runs.timeline import session_timeline
from agente_films.state_keys import public_state
from agente_films.studio import Studio

router = APIRouter(prefix="/sessions", tags=["sessions"])


async def session_out(studio: Studio, row: StudioSession) -> SessionOut:
    async with studio.sessionmaker() as db:
        project = await ProjectRepository(db).latest_for_session(row.id)
    return SessionOut.model_validate(row).model_copy(
        update={
            "subject": project.subject if project else None,
            "active_run_id": await studio.runs.active_run_id(row.id),
        }
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_session(studio: StudioDep, user_id: UserId, body: SessionCreate | None = None) -> SessionOut:
    title = body.title.strip() if body and body.title and body.title.strip() else None
    row = await studio.create_session(user_id, title, title_set_by_user=title is not None)
    return await session_out(studio, row)


@router.get("")
async def list_sessions(
    studio: StudioDep,
    user_id: UserId,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> SessionPage:
    async with studio.sessionmaker() as db:
        rows, total = await SessionRepository(db).list(user_id, limit=limit, offset=offset)
    items = [await session_out(studio, row) for row in rows]
    return SessionPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{session_id}")
async def get_session(studio: StudioDep, row: OwnedSession) -> SessionOut:
    return await session_out(studio, row)


@router.patch("/{session_id}")
async def rename_session(studio: StudioDep, row: WritableSession, body: SessionUpdate) -> SessionOut:
    async with studio.sessionmaker.begin() as db:
        await SessionRepository(db).update(row.id, title=body.title.strip(), title_set_by_user=True)
        fresh = await SessionRepository(db).get(row.id, row.user_id)
    return await session_out(studio, fresh)


@router.delete("/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_session(studio: StudioDep, row: OwnedSession) -> None:
    await studio.delete_session(row)


@router.post("/{session_id}/archive")
async def archive(studio: StudioDep, row: OwnedSession) -> SessionOut:
    """Make the session read-only now, as retention does after RETENTION_ARCHIVE_DAYS idle: it
    can be read, downloaded and branched; every change answers 423 until it is unarchived. 409
    during a run. Archiving does not restart its idle clock (RETENTION_PURGE_DAYS)."""
    await archive_session(studio, row)
    return await session_out(studio, await load_owned_session(studio, row.id, row.user_id))


@router.post("/{session_id}/unarchive")
async def unarchive(studio: StudioDep, row: OwnedSession) -> SessionOut:
    """Make an archived session active again; its idle clock starts anew."""
    await unarchive_session(studio, row)
    return await session_out(studio, await load_owned_session(studio, row.id, row.user_id))


@router.get("/{session_id}/state")
async def get_state(studio: StudioDep, row: OwnedSession) -> StateOut:
    async with studio.sessionmaker() as db:
        version = await StateRepository(db).latest_version(row.id)
    return StateOut(session_id=row.id, version=version, state=public_state(await studio.adk_state(row)))


@router.get("/{session_id}/states")
async def list_state_versions(studio: StudioDep, row: OwnedSession) -> list[StateVersionOut]:
    async with studio.sessionmaker() as db:
        rows = await StateRepository(db).versions(row.id)
    return [StateVersionOut.model_validate(r) for r in rows]


@router.get("/{session_id}/states/{version}")
async def get_state_version(
    studio: StudioDep, row: OwnedSession, version: Annotated[int, Path(ge=1, le=MAX_VERSION)]
) -> StateSnapshotOut:
    async with studio.sessionmaker() as db:
        snapshot = await StateRepository(db).get(row.id, version)
    if snapshot is None:
        raise Refused(404, f"State version {version} not found in this session.")
    return StateSnapshotOut.model_validate(snapshot)


@router.get("/{session_id}/events")
async def list_agent_events(
    studio: StudioDep, row: OwnedSession, run_id: uuid.UUID | None = None
) -> list[AgentEventOut]:
    """Every stored ADK event and every agent start/end (with its loop round), in order."""
    async with studio.sessionmaker() as db:
        rows = await AgentEventRepository(db).for_session(row.id, question_id=str(run_id) if run_id else None)
    return [AgentEventOut.model_validate(r) for r in rows]


@router.get("/{session_id}/usage")
async def get_usage(studio: StudioDep, row: OwnedSession) -> UsageOut:
    """LLM tokens and cost of the session: in total, per agent, per run."""
    async with studio.sessionmaker() as db:
        lines = await UsageRepository(db).totals(row.id)
    return UsageOut.from_lines(row.id, lines)


@router.get("/{session_id}/history")
async def get_history(studio: StudioDep, row: OwnedSession) -> HistoryOut:
    """Every question in order, with the answers and the reasoning (tool calls, transfers, loop
    exits) that explain them, in the order they happened."""
    async with studio.sessionmaker() as db:
        questions = await QuestionRepository(db).for_session(row.id, kinds=None)
        answers = await AnswerRepository(db).for_session(row.id)
        reasoning = await ReasoningRepository(db).for_session(row.id)
    items = [
        HistoryItem(
            question=QuestionOut.model_validate(q),
            answers=[AnswerOut.model_validate(a) for a in answers if a.question_id == q.id],
            reasoning=[ReasoningOut.model_validate(r) for r in reasoning if r.question_id == q.id],
        )
        for q in questions
    ]
    return HistoryOut(session_id=row.id, items=items)


@router.get("/{session_id}/timeline")
async def get_timeline(studio: StudioDep, row: OwnedSession) -> protocol.SessionTimeline:
    """Every run as the AG-UI frames a live client saw (rebuilt from the stored events, steps and
    usage through the live stream's translator): what the UI shows for past runs."""
    events = await studio.adk_events(row)
    async with studio.sessionmaker() as db:
        return await session_timeline(db, row.id, events)
