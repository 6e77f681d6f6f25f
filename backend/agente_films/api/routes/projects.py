"""Film projects (one per pitch subject): CRUD, as in the design's section 7.1."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from agente_films.api.deps import StudioDep, UserId, load_writable_session
from agente_films.api.schemas import MAX_OFFSET, ProjectCreate, ProjectOut, ProjectUpdate
from agente_films.db.repositories import ProjectRepository
from agente_films.db.tables import FilmProject
from agente_films.errors import Refused
from agente_films.studio import Studio

router = APIRouter(prefix="/projects", tags=["projects"])


async def _owned_project(studio: Studio, project_id: uuid.UUID, user_id: str) -> FilmProject:
    async with studio.sessionmaker() as db:
        project = await ProjectRepository(db).get(str(project_id), user_id)
    if project is None:
        raise Refused(404, f"Project {project_id} not found.")
    return project


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_project(studio: StudioDep, user_id: UserId, body: ProjectCreate) -> ProjectOut:
    try:
        session_id = str(uuid.UUID(body.session_id))
    except ValueError:
        raise Refused(422, "session_id is not a valid id.") from None
    await load_writable_session(studio, session_id, user_id)  # 423 in an archived session
    async with studio.sessionmaker.begin() as db:
        project = await ProjectRepository(db).create(
            session_id=session_id, user_id=user_id, title=body.title, subject=body.subject
        )
    return ProjectOut.model_validate(project)


@router.get("")
async def list_projects(
    studio: StudioDep,
    user_id: UserId,
    session_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[ProjectOut]:
    async with studio.sessionmaker() as db:
        rows = await ProjectRepository(db).list(
            user_id, session_id=str(session_id) if session_id else None, limit=limit, offset=offset
        )
    return [ProjectOut.model_validate(r) for r in rows]


@router.get("/{project_id}")
async def get_project(studio: StudioDep, user_id: UserId, project_id: uuid.UUID) -> ProjectOut:
    return ProjectOut.model_validate(await _owned_project(studio, project_id, user_id))


@router.put("/{project_id}")
async def update_project(
    studio: StudioDep, user_id: UserId, project_id: uuid.UUID, body: ProjectUpdate
) -> ProjectOut:
    project = await _owned_project(studio, project_id, user_id)
    await load_writable_session(studio, project.session_id, user_id)
    values = body.model_dump(exclude_none=True)
    if not values:
        raise Refused(422, "Nothing to update: give title, subject or status.")
    async with studio.sessionmaker.begin() as db:
        await ProjectRepository(db).update(project.id, **values)
    return ProjectOut.model_validate(await _owned_project(studio, project_id, user_id))


@router.delete("/{project_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_project(studio: StudioDep, user_id: UserId, project_id: uuid.UUID) -> None:
    project = await _owned_project(studio, project_id, user_id)
    await load_writable_session(studio, project.session_id, user_id)
    async with studio.sessionmaker.begin() as db:
        await ProjectRepository(db).delete(project.id)
