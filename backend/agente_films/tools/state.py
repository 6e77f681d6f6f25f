"""The state tool: lets an agent write only the session-state keys it owns.

The public codelab's `append_to_state` accepts any key, so a model could write `app:`/`user:` keys
(shared across sessions and users) or `temp:` keys. Here every agent gets its own allow-list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from google.adk.tools.tool_context import ToolContext

from agente_films import state_keys as keys

# How each writable key takes a value: a list grows, a scalar is replaced.
_LIST_KEYS = {keys.RESEARCH, keys.CRITICAL_FEEDBACK}


def make_state_tool(allowed: Iterable[str], max_chars: int) -> Callable[..., Any]:
    allowed_keys = frozenset(allowed)
    unknown = allowed_keys - keys.WRITABLE
    if unknown:
        raise ValueError(f"not writable state keys: {sorted(unknown)}")

    def append_to_state(key: str, value: str, tool_context: ToolContext) -> dict[str, Any]:
        """Store text in the shared session state so that the rest of the team can read it.

        Args:
            key: The state key to write. Only the keys listed for you in your instructions.
            value: The text to store (research findings with source URLs, feedback, ...).
        """
        if key not in allowed_keys:
            return {
                "status": "error",
                "message": f"Key '{key}' is not writable by this agent. "
                f"Allowed keys: {', '.join(sorted(allowed_keys))}.",
            }
        text = str(value).strip()
        if not text:
            return {"status": "error", "message": "Value is empty; nothing was stored."}
        if len(text) > max_chars:
            return {
                "status": "error",
                "message": f"Value is {len(text)} characters; the limit is {max_chars}. Shorten it.",
            }
        state = tool_context.state
        if key in _LIST_KEYS:
            entries = list(state.get(key) or [])
            entries.append(text)
            state[key] = entries
            return {"status": "ok", "key": key, "entries": len(entries)}
        state[key] = text
        return {"status": "ok", "key": key}

    return append_to_state
