"""The one place an ADK event is decoded: each event becomes plain facts once, and the frame and
row translators read only those."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from google.adk.events import Event

# ADK seals a cancelled invocation with events carrying this code: a stop, not a failure.
ABORTED = "INVOCATION_ABORTED"
# Tool arguments and results are cut to this many characters in frames and reasoning rows.
TOOL_TEXT_LIMIT = 4000


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


# Tools ADK adds itself, and what their call means to the team.
INTERNAL_TOOLS = {"transfer_to_agent": "transfer", "exit_loop": "loop_exit"}


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    args: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolResult:
    id: str
    name: str
    response: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventFacts:
    event_id: str
    invocation_id: str | None
    author: str
    branch: str | None
    partial: bool
    text: str
    thoughts: tuple[str, ...]
    calls: tuple[ToolCall, ...]
    results: tuple[ToolResult, ...]
    state_delta: dict[str, Any]
    artifact_delta: dict[str, int]
    transfer_to: str | None
    escalate: bool
    aborted: bool
    failure: str | None
    usage: dict[str, Any] | None

    @property
    def kind(self) -> str:
        """What the event is, for the agent_events row."""
        if self.aborted:
            return "cancelled"
        if self.failure:
            return "error"
        if self.author == "user":
            return "user_message"
        if self.escalate:
            return "loop_exit"
        if self.transfer_to:
            return "transfer"
        if self.artifact_delta:
            return "artifact"
        if self.calls:
            return "tool_call"
        if self.results:
            return "tool_result"
        if self.text:
            return "message"
        return "state_update" if self.state_delta else "other"


def decode(event: Event) -> EventFacts:
    parts = event.content.parts if event.content and event.content.parts else []
    actions = event.actions
    calls = tuple(
        ToolCall(id=call.id or f"{event.id}-{call.name}", name=call.name or "", args=dict(call.args or {}))
        for call in event.get_function_calls()
    )
    results = tuple(
        ToolResult(id=r.id or f"{event.id}-{r.name}", name=r.name or "", response=dict(r.response or {}))
        for r in event.get_function_responses()
    )
    aborted = event.error_code == ABORTED
    failed = bool(event.error_code or event.error_message) and not aborted
    return EventFacts(
        event_id=event.id,
        invocation_id=event.invocation_id or None,
        author=event.author or "unknown",
        branch=event.branch,
        partial=bool(event.partial),
        text="".join(p.text for p in parts if p.text and not p.thought),
        thoughts=tuple(p.text for p in parts if p.thought and p.text),
        calls=calls,
        results=results,
        state_delta=dict(actions.state_delta or {}),
        artifact_delta=dict(actions.artifact_delta or {}),
        transfer_to=actions.transfer_to_agent,
        escalate=bool(actions.escalate),
        aborted=aborted,
        failure=f"{event.error_code or 'error'}: {event.error_message or ''}".strip() if failed else None,
        usage=event.usage_metadata.model_dump(exclude_none=True) if event.usage_metadata else None,
    )
