"""The producer's hand on the pitch: regenerate one stage, edit the outline or direction by hand,
undo the last revision. Refusals (a run in progress, a stale version, a key that is not editable,
nothing to undo) are domain errors, mapped to JSON once in api/app.py."""

from __future__ import annotations

from fastapi import APIRouter, status

from agente_films.api.deps import StudioDep, WritableSession
from agente_films.api.routes.messages import run_out
from agente_films.api.schemas import (
    RegenerateIn,
    RunOut,
    StateEditIn,
    StateEditOut,
    UndoOut,
)
from agente_films.runs.producer_changes import edit_state, undo_last

router = APIRouter(prefix="/sessions/{session_id}", tags=["edits"])


@router.post("/regenerate", status_code=status.HTTP_202_ACCEPTED)
async def regenerate(studio: StudioDep, row: WritableSession, body: RegenerateIn) -> RunOut:
    """Run one stage again on the current pitch (the next revision; the other stages keep their
    work and the file writer saves the next document version). Follow the run on the socket.
    409 during a run (not queued: press it again once the run is over) or before any pitch."""
    run = await studio.runs.regenerate(session_id=row.id, user_id=row.user_id, stage=body.stage)
    return await run_out(studio, row, run.run_id)


@router.patch("/state")
async def edit_session_state(studio: StudioDep, row: WritableSession, body: StateEditIn) -> StateEditOut:
    """Change PLOT_OUTLINE (title, logline, acts) or direction by hand, on the state version the
    edit was made on. The edited outline sections become the producer's: the screenwriter keeps
    them and the critic does not ask to revert them. 409 if the state moved on (with
    current_version) or a run is in progress; 422 for a key that may not be edited."""
    made = await edit_state(
        studio.runs, session_id=row.id, user_id=row.user_id, changes=body.changes,
        expected_version=body.expected_version,
    )
    return StateEditOut(
        session_id=row.id, edit_id=made.run_id, version=made.version,
        changed=made.change.details.get("changed", []), state=made.state,
    )


@router.post("/undo")
async def undo(studio: StudioDep, row: WritableSession) -> UndoOut:
    """Take back the last revision, regeneration or edit of the current pitch, in place: the pitch
    returns to the state before it, as a new state version; nothing stored is deleted."""
    made = await undo_last(studio.runs, session_id=row.id, user_id=row.user_id)
    return UndoOut(
        session_id=row.id, undo_id=made.run_id or "", version=made.version, state=made.state,
        **made.change.details,
    )
