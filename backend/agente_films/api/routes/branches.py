"""Branches and comparisons: branch a session at a round or a state version, list its branches,
its outline drafts, and compare two drafts or pitch versions (within a session or across branches)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/sessions/{session_id}", tags=["branches"])
