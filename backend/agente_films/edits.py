"""The producer's hand on the pitch, as pure rules: what an edit by hand may change and what it
changed, which sections become the producer's, and which earlier change an undo takes back.

The stores and the run that apply them are in runs/manager.py (`RunManager.change_state`); this
module reads and returns plain values only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agente_films import state_keys as keys
from agente_films.errors import NotEditable, NothingToUndo
from agente_films.text import plain_text_problem

# A paragraph that opens a section of the outline: "**Title:** ...", "**Act II: The Cost.** ...".
_SECTION = re.compile(r"^\*\*(Title|Logline):\*\*|^\*\*(Act [IVX]+)\b")

# What an undo restores: the pitch's content. Not the revision counter (versions of the document
# stay numbered in the order they were made) nor the document's file name.
UNDO_KEYS = tuple(k for k in keys.PITCH_KEYS if k not in (keys.REVISION, keys.PITCH_DOCUMENT))


def outline_sections(outline: str) -> dict[str, str]:
    """The outline's paragraphs by section (Title, Logline, Act I, Act II, Act III); paragraphs
    that open no section belong to the one before (notes lines go to "Notes")."""
    sections: dict[str, str] = {}
    current = "Notes"
    for paragraph in re.split(r"\n\s*\n", outline.strip()):
        match = _SECTION.match(paragraph.strip())
        if match:
            current = match.group(1) or match.group(2)
            sections[current] = paragraph.strip()
        elif paragraph.strip():
            sections[current] = (sections.get(current, "") + "\n\n" + paragraph.strip()).strip()
    return sections


def section_text(outline: str, section: str) -> str:
    """A section's words without its label ("**Logline:** x" -> "x")."""
    paragraph = outline_sections(outline).get(section, "")
    return re.sub(r"^\*\*[^*]+\*\*\s*", "", paragraph).strip()


def changed_sections(before: str, after: str) -> list[str]:
    """The sections that differ, in outline order (any number of acts); "Outline" when only the
    layout changed."""
    old, new = outline_sections(before), outline_sections(after)
    names = list(dict.fromkeys([*new, *old]))
    changed = [name for name in names if old.get(name, "") != new.get(name, "")]
    return changed or (["Outline"] if _paragraphs(before) != _paragraphs(after) else [])


def _paragraphs(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"\n\s*\n", text.strip()) if part.strip()]


@dataclass(frozen=True)
class EditPlan:
    delta: dict[str, Any]
    changed: list[str]  # outline sections and other keys the edit changes, for people
    summary: str  # the edit's question text


def plan_edit(changes: dict[str, Any], state: dict[str, Any], *, version: int, max_chars: int) -> EditPlan:
    """The state delta of an edit by hand, or NotEditable saying what is wrong. Only keys in
    `state_keys.EDITABLE`, only text, and an outline that keeps its Title and Logline."""
    refused = sorted(k for k in changes if k not in keys.EDITABLE)
    if refused:
        raise NotEditable(
            f"{', '.join(ascii(k) for k in refused)} cannot be edited by hand; editable: {', '.join(sorted(keys.EDITABLE))}. "
            "Research comes from its sources, reports and feedback from their agents."
        )
    if not str(state.get(keys.PROMPT) or "").strip():
        raise NotEditable("There is no pitch to edit yet; name a subject first.")
    delta: dict[str, Any] = {}
    changed: list[str] = []
    for key, value in changes.items():
        if not isinstance(value, str):
            raise NotEditable(f"{key} must be text.")
        text = value.strip()
        problem = plain_text_problem(text)
        if problem:
            raise NotEditable(f"{key} {problem}.")
        if len(text) > max_chars:
            raise NotEditable(f"{key} is {len(text)} characters; the limit is {max_chars}.")
        if key == keys.PLOT_OUTLINE:
            sections = outline_sections(text)
            missing = [name for name in ("Title", "Logline") if not section_text(text, name)]
            if missing:
                raise NotEditable(
                    f"The outline needs its {' and '.join(missing)}: keep the lines "
                    "**Title:** ... and **Logline:** ... (and the acts, as **Act I: Name.** ...)."
                )
            moved = changed_sections(str(state.get(keys.PLOT_OUTLINE) or ""), text)
            if moved:
                delta[key] = text
                changed += moved
                edits = state.get(keys.PRODUCER_EDITS) if isinstance(state.get(keys.PRODUCER_EDITS), dict) else {}
                owned = [s for s in sections if s != "Notes" and s in set(edits.get("sections") or []) | set(moved)]
                delta[keys.PRODUCER_EDITS] = {
                    "sections": owned, "revision": int(state.get(keys.REVISION) or 0), "version": version + 1,
                }
        elif text != str(state.get(key) or "").strip():
            delta[key] = text
            changed.append(key)
    what = ", ".join(changed) if changed else "nothing"
    return EditPlan(delta=delta, changed=changed, summary=f"Edited by hand: {what}")


def later_note_touches(section: str, note_effect: Any) -> bool:
    """Whether a note (its `intent.note_effect`) asks to change a section the producer wrote."""
    if section == "Title":
        return False
    if section == "Logline":
        return bool(note_effect.tone)
    number = {"Act I": 1, "Act II": 2, "Act III": 3}.get(section)
    return bool(note_effect.tone or note_effect.bigger_role or note_effect.act == number)


# -- undo ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A question (message run, regeneration, edit, undo) with the state versions it produced."""

    question_id: str
    kind: str
    text: str
    changed_keys: frozenset[str]
    first_version: int | None
    undone: bool


@dataclass(frozen=True)
class UndoPlan:
    target: Change
    restored_version: int


def plan_undo(changes: Sequence[Change]) -> UndoPlan:
    """The last revision, regeneration or edit of the current film that is not undone yet: the
    state is restored to the version just before its first change. A new subject is a wall: undo
    never crosses into another film (or takes back the first pitch)."""
    for change in reversed(changes):
        if change.first_version is None or change.kind == "undo":
            continue
        if keys.PROMPT in change.changed_keys:
            break  # the first pitch of the current film: nothing before it to go back to
        if change.undone:
            continue
        revises = change.kind in ("edit", "regenerate") or keys.REVISION in change.changed_keys
        if revises and change.first_version > 1:
            return UndoPlan(target=change, restored_version=change.first_version - 1)
    raise NothingToUndo("There is no revision, regeneration or edit of the current pitch left to undo.")


def undo_delta(current: dict[str, Any], restored: dict[str, Any]) -> dict[str, Any]:
    """The state delta that brings the pitch back to `restored` (keys that differ only). A key the
    restored state lacks is emptied: ADK's state deltas cannot remove a key."""
    delta = {}
    for key in UNDO_KEYS:
        before = restored.get(key, _empty_like(current.get(key)))
        if current.get(key) != before:
            delta[key] = before
    return delta


def _empty_like(value: Any) -> Any:
    if isinstance(value, list):
        return []
    if isinstance(value, dict):
        return {}
    return ""
