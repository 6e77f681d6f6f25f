"""The critic's verdict tool: says, note by note, whether a draft addresses the producer's notes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.adk.tools.tool_context import ToolContext

from agente_films import notes as producer_notes
from agente_films import state_keys as keys


def make_note_verdict_tool(max_chars: int) -> Callable[..., Any]:
    def judge_note(note_id: str, addressed: bool, verdict: str, tool_context: ToolContext) -> dict[str, Any]:
        """Record your verdict on one producer's note taken this round (status "taken").

        Args:
            note_id: The note's id, as listed in the producer's notes.
            addressed: True if the outline now does what the note asks.
            verdict: One sentence in your words: how the draft answers the note, or what is missing.
        """
        text = str(verdict).strip()
        if not text:
            return {"status": "error", "message": "Say in one sentence why the note is or is not addressed."}
        if len(text) > max_chars:
            return {"status": "error", "message": f"The verdict is {len(text)} characters; the limit is {max_chars}."}
        notes, judged = producer_notes.judge(
            tool_context.state.get(keys.PRODUCER_NOTES), str(note_id), bool(addressed), text
        )
        if judged is None:
            waiting = [n["id"] for n in producer_notes.awaiting_verdict(notes)]
            return {
                "status": "error",
                "message": f"No note {note_id!r} awaits a verdict; notes awaiting one: {', '.join(waiting) or 'none'}.",
            }
        tool_context.state[keys.PRODUCER_NOTES] = notes
        return {"status": "ok", "note_id": judged["id"], "addressed": judged["addressed"]}

    return judge_note
