"""The greeter's brief: what the person asked for, reported through one small typed tool.

The greeter (a real model or the offline one) tells the intent and its parts; the tool writes the
state that intent means and hands over to the team in the same step, so a follow-up never turns
into a new subject by accident, and no second model call is needed for the transfer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from google.adk.tools.tool_context import ToolContext

from agente_films import notes as producer_notes
from agente_films import state_keys as keys

INTENTS = ("new_subject", "switch", "revision")


def fresh_pitch(subject: str, direction: str) -> dict[str, Any]:
    """The state of a new film project: the subject and its direction, nothing of the last one."""
    state: dict[str, Any] = {key: "" for key in keys.PITCH_KEYS}
    state.update({
        keys.PROMPT: subject, keys.DIRECTION: direction, keys.RESEARCH: [], keys.CRITICAL_FEEDBACK: [],
        keys.PRODUCER_NOTES: [], keys.REVISION: 0, keys.PRODUCER_EDITS: {}, keys.REGENERATE: {},
    })
    return state


def make_brief_tool(team_agent: str, max_chars: int) -> Callable[..., Any]:
    def brief_team(
        intent: str, tool_context: ToolContext, subject: str = "", direction: str = "", note: str = ""
    ) -> dict[str, Any]:
        """Hand the person's request to the film concept team (the team starts right after).

        Call it only when the person names a subject or asks to change the current pitch, never for
        a greeting or a question about the studio.

        Args:
            intent: "new_subject" (the first subject of the session), "switch" (a different subject
                than the current one: a new film project) or "revision" (a change to the current
                pitch, e.g. "make it funnier", "Act II drags", "cast someone younger").
            subject: For new_subject and switch: just the subject, e.g. "Marie Curie" or "the Apollo
                11 landing", without lead-ins or direction.
            direction: For new_subject and switch: tone, genre, audience, length or focus the person
                asked for, e.g. "thriller", "for teenagers", "darker in tone"; "" if none.
            note: For revision: what to change, in the person's words; "" when the message
                starts with "Notes for the writers' room:" (those notes are recorded already).
        """
        state = tool_context.state
        subject, direction, note = str(subject).strip(), str(direction).strip(), str(note).strip()
        if intent not in INTENTS:
            return {"status": "error", "message": f"intent must be one of {', '.join(INTENTS)}."}
        for name, value in (("subject", subject), ("direction", direction), ("note", note)):
            if len(value) > max_chars:
                return {"status": "error", "message": f"{name} is {len(value)} characters; the limit is {max_chars}."}
        current = str(state.get(keys.PROMPT) or "")
        if intent == "revision":
            if not current:
                return {"status": "error", "message": "There is no pitch to revise yet; ask for a subject."}
            revision = int(state.get(keys.REVISION) or 0)
            queued = [n for n in producer_notes.of_revision(state.get(keys.PRODUCER_NOTES), revision)
                      if n["status"] == "pending"]
            if queued and (not note or note.casefold() in {n["text"].casefold() for n in queued}):
                # The notes came with the message (said after the last run's writers' room); a
                # model that repeats one adds nothing.
                tool_context.actions.transfer_to_agent = team_agent
                return {"status": "ok", "intent": intent, "subject": current, "revision": revision,
                        "notes": [n["text"] for n in queued]}
            if not note:
                return {"status": "error", "message": "A revision needs the note: what should change?"}
            revision += 1
            state[keys.REVISION] = revision
            state[keys.PRODUCER_NOTES] = producer_notes.add(
                state.get(keys.PRODUCER_NOTES), [producer_notes.new_note(uuid.uuid4().hex, note, revision)]
            )
            result = {"status": "ok", "intent": intent, "subject": current, "revision": revision, "note": note}
        else:
            if not subject:
                return {"status": "error", "message": f"{intent} needs the subject."}
            for key, value in fresh_pitch(subject, direction).items():
                state[key] = value
            result = {"status": "ok", "intent": intent, "subject": subject, "direction": direction}
            if current and current != subject:
                result["previous_subject"] = current
        tool_context.actions.transfer_to_agent = team_agent
        return result

    return brief_team
