"""The producer's hand on the pitch: regenerate one stage, edit the outline or direction by hand,
undo the last revision."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/sessions/{session_id}", tags=["edits"])
