"""Versions of a pitch to read and compare: the outline drafts of a session (the screenwriter's,
the producer's edits by hand, undos that brought one back), and any draft or pitch document
version of the caller's sessions by reference, for side-by-side comparison across branches. The
API's reading side of branches: it answers in the API's shapes, for the routes."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from agente_films import state_keys as keys
from agente_films.agents.team import APP_NAME
from agente_films.api.schemas import CompareSide, DraftOut
from agente_films.branching import STEP_TYPES, version_rounds
from agente_films.db.repositories import SessionRepository
from agente_films.db.tables import AgentEvent, Question, SessionState
from agente_films.errors import Refused, SessionNotFound
from agente_films.runs.rows import title_from_outline
from agente_films.studio import Studio
from agente_films.tools.pitch_document import is_pitch_filename
from agente_films.urls import draft_url, pitch_urls

# State versions are 32-bit integers in the database: a larger one is simply not there.
MAX_VERSION = 2**31 - 1
REF_FORMS = "draft:<session_id>:<version> or pitch:<session_id>:<filename>:<version>"
# How a draft outside the writers' room came to be, by the kind of its run.
_BY_KIND = {"edit": " · edited by hand", "undo": " · restored by an undo"}


async def session_drafts(studio: Studio, session_id: str) -> list[DraftOut]:
    """Every state version that changed the outline to a draft (a new subject's reset to an empty
    outline is not a draft), with who wrote it and in which run and round."""
    return [draft for draft, _ in await _drafts_with_text(studio, session_id)]


async def _drafts_with_text(studio: Studio, session_id: str) -> list[tuple[DraftOut, str]]:
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
        drafts.append((DraftOut(
            number=number, version=snapshot.version, agent=snapshot.agent_name,
            run_id=snapshot.question_id, round=round_, label=f"Draft {number}{how} (v{snapshot.version})",
            title=title_from_outline(outline), created_at=snapshot.created_at,
            download_url=draft_url(session_id, snapshot.version),
        ), outline))
    return drafts


async def draft_text(studio: Studio, session_id: str, version: int) -> tuple[DraftOut, str]:
    """One draft and its outline, or Refused 404 if that version did not change the outline."""
    for draft, outline in await _drafts_with_text(studio, session_id):
        if draft.version == version:
            return draft, outline
    raise Refused(404, f"State version {version} of session {session_id} is not an outline draft.")


def _bad_ref(ref: str, why: str) -> Refused:
    return Refused(422, f"{ref!r} is not a version reference ({why}); use {REF_FORMS}.")


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
    async with studio.sessionmaker() as db:
        row = await SessionRepository(db).get(session_id, user_id)
    if row is None:  # another user's session is not found either
        raise SessionNotFound(session_id)
    if kind == "draft":
        draft, text = await draft_text(studio, row.id, version)
        return CompareSide(
            ref=ref, session_id=row.id, kind=kind, label=draft.label, text=text, download_url=draft.download_url
        )
    assert filename is not None
    return CompareSide(
        ref=ref, session_id=row.id, kind=kind, label=f"{filename} version {version}",
        text=await document_text(studio, row.user_id, row.id, filename, version),
        download_url=pitch_urls(row.id, filename, version)["markdownUrl"],
    )


async def document_text(studio: Studio, user_id: str, session_id: str, filename: str, version: int | None) -> str:
    """A pitch document's Markdown (`version` None: the latest), or Refused 404."""
    scope = {"app_name": APP_NAME, "user_id": user_id, "session_id": session_id}
    part = None
    if is_pitch_filename(filename):  # else not a name the server gives ("../x", "user:x", 300 bytes)
        try:
            part = await studio.artifact_service.load_artifact(filename=filename, version=version, **scope)
        except (ValueError, OSError):
            part = None
    if part is None or part.inline_data is None or part.inline_data.data is None:
        which = f"version {version} of " if version is not None else ""
        shown = filename if len(filename) <= 100 else f"{filename[:100]}..."
        raise Refused(404, f"No {which}pitch document named {shown!r} in session {session_id}.")
    return part.inline_data.data.decode("utf-8", errors="replace")
