"""The producer's notes on a pitch, as they live in the session state (`state_keys.PRODUCER_NOTES`).

A note is a plain dict so that it travels through ADK's state deltas, snapshots and prompts as it
is: {id, text, status, round, revision, addressed, verdict}. Its life: `pending` (said, not yet
taken) -> `taken` (the writers' room took it at the start of a round) -> `addressed` or
`not_addressed` (the critic's verdict); a note not addressed is taken again at the next round.
These functions are pure: they return new lists, and the caller writes them through ADK's state.
"""

from __future__ import annotations

from typing import Any

from agente_films.protocol import NoteStatus

Note = dict[str, Any]

# The message of a run that applies notes said after a run's writers' room had finished: the notes
# come with it as pending state, and the greeter hands over without adding another.
FOLLOW_UP_PREFIX = "Notes for the writers' room:"

# Taken at the next round's start: new notes, those the critic found not addressed yet, and those
# a round took but left unjudged (its critic gave feedback first, or the run stopped).
TAKEABLE: frozenset[NoteStatus] = frozenset({"pending", "taken", "not_addressed"})


def new_note(note_id: str, text: str, revision: int) -> Note:
    return {
        "id": note_id, "text": text, "status": "pending", "round": None, "revision": revision,
        "addressed": None, "verdict": "",
    }


def as_notes(value: Any) -> list[Note]:
    """The state value as a list of notes (anything else, e.g. a missing key, is no notes)."""
    if not isinstance(value, list):
        return []
    return [dict(n) for n in value if isinstance(n, dict) and n.get("id") and n.get("text")]


def add(notes: Any, added: list[Note]) -> list[Note]:
    known = {n["id"] for n in as_notes(notes)}
    return as_notes(notes) + [dict(n) for n in added if n["id"] not in known]


def take(notes: Any, round_number: int) -> tuple[list[Note], list[Note]]:
    """(all notes, the ones taken now): every takeable note is taken in this round."""
    updated, taken = [], []
    for note in as_notes(notes):
        if note["status"] in TAKEABLE:
            note = {**note, "status": "taken", "round": round_number, "addressed": None, "verdict": ""}
            taken.append(note)
        updated.append(note)
    return updated, taken


def judge(notes: Any, note_id: str, addressed: bool, verdict: str) -> tuple[list[Note], Note | None]:
    """(all notes, the judged note or None if no taken note has that id)."""
    updated, judged = [], None
    for note in as_notes(notes):
        if note["id"] == note_id and note["status"] == "taken":
            note = {**note, "status": "addressed" if addressed else "not_addressed",
                    "addressed": addressed, "verdict": verdict.strip()}
            judged = note
        updated.append(note)
    return updated, judged


def awaiting_verdict(notes: Any) -> list[Note]:
    return [n for n in as_notes(notes) if n["status"] == "taken"]


def unaddressed(notes: Any) -> list[Note]:
    """Notes a draft may not be approved with: taken and not judged, or judged not addressed."""
    return [n for n in as_notes(notes) if n["status"] in ("taken", "not_addressed")]


def of_revision(notes: Any, revision: int) -> list[Note]:
    return [n for n in as_notes(notes) if n.get("revision") == revision]


def changes(before: Any, after: Any) -> list[Note]:
    """The notes whose status moved between two values of the state key (a state delta)."""
    old = {n["id"]: n["status"] for n in as_notes(before)}
    return [n for n in as_notes(after) if old.get(n["id"]) != n["status"]]
