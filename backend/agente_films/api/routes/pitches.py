"""Pitch documents: list a session's documents and download one as Markdown or PDF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from agente_films.agents.team import APP_NAME
from agente_films.api.deps import OwnedSession, StudioDep
from agente_films.api.schemas import PitchOut, PitchVersionOut
from agente_films.api.versions import MAX_VERSION, document_text
from agente_films.db.repositories import AgentEventRepository, QuestionRepository
from agente_films.db.tables import StudioSession
from agente_films.pitch_pdf import markdown_to_pdf
from agente_films.studio import Studio
from agente_films.urls import pitch_urls

router = APIRouter(prefix="/sessions/{session_id}/pitches", tags=["pitches"])

DocumentFormat = Literal["markdown", "pdf"]
# (file name, version) -> {"markdownUrl", "pdfUrl"}: where a listed version downloads from.
DocumentUrls = Callable[[str, int], dict[str, str]]


@router.get("")
async def list_pitches(studio: StudioDep, row: OwnedSession) -> list[PitchOut]:
    return await session_pitches(studio, row, lambda filename, version: pitch_urls(row.id, filename, version))


async def session_pitches(studio: Studio, row: StudioSession, urls: DocumentUrls) -> list[PitchOut]:
    """A session's pitch documents, every version with its download links from `urls` (the
    owner's routes here, a share link's in api/routes/shares.py)."""
    scope = {"app_name": APP_NAME, "user_id": row.user_id, "session_id": row.id}
    async with studio.sessionmaker() as db:
        saved_by = await AgentEventRepository(db).saved_documents(row.id)
        undone = {q.id for q in await QuestionRepository(db).for_session(row.id) if (q.metadata_ or {}).get("undone_by")}
    pitches = []
    for filename in sorted(await studio.artifact_service.list_artifact_keys(**scope)):
        versions = await studio.artifact_service.list_artifact_versions(filename=filename, **scope)
        items = []
        for meta in sorted(versions, key=lambda v: v.version):
            links = urls(filename, meta.version)
            run_id = saved_by.get((filename, meta.version))
            items.append(
                PitchVersionOut(
                    version=meta.version,
                    created_at=datetime.fromtimestamp(meta.create_time, UTC),
                    size=(meta.custom_metadata or {}).get("size"),
                    revision=int((meta.custom_metadata or {}).get("revision") or 0),
                    notes=[str(n) for n in (meta.custom_metadata or {}).get("notes") or []],
                    run_id=run_id,
                    undone=run_id in undone,
                    markdown_url=links["markdownUrl"],
                    pdf_url=links["pdfUrl"],
                )
            )
        if items:
            pitches.append(PitchOut(filename=filename, latest_version=items[-1].version, versions=items))
    return pitches


@router.get(
    "/{filename}",
    responses={200: {"content": {"text/markdown": {}, "application/pdf": {}}}},
    response_class=Response,
)
async def download_pitch(
    studio: StudioDep,
    row: OwnedSession,
    filename: str,
    version: Annotated[int | None, Query(ge=0, le=MAX_VERSION)] = None,
    format: Annotated[DocumentFormat, Query()] = "markdown",  # noqa: A002
) -> Response:
    return await pitch_download(studio, row, filename, version, format)


async def pitch_download(
    studio: Studio, row: StudioSession, filename: str, version: int | None, format: DocumentFormat  # noqa: A002
) -> Response:
    """One version of a pitch document (None: the latest) as a Markdown or PDF attachment."""
    markdown = await document_text(studio, row.user_id, row.id, filename, version)
    stem = filename.removesuffix(".md")
    suffix = f"-v{version}" if version is not None else ""
    if format == "pdf":
        title = markdown.splitlines()[0].lstrip("# ").strip() if markdown else stem
        body, media_type, name = markdown_to_pdf(markdown, title=title), "application/pdf", f"{stem}{suffix}.pdf"
    else:
        body, media_type, name = markdown.encode("utf-8"), "text/markdown; charset=utf-8", f"{stem}{suffix}.md"
    return Response(
        content=body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
