"""Run facts -> the rows we store beside ADK's events, and the domain rules that go with them: a
new subject (PROMPT) starts a film project and names the session, the screenwriter's outline
titles the project, a saved document marks it pitched. Pure: a plan of rows, written by
`runs/writer.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agente_films import notes as producer_notes
from agente_films import state_keys as keys
from agente_films.db.tables import new_id
from agente_films.runs.facts import INTERNAL_TOOLS, TOOL_TEXT_LIMIT, EventFacts, to_json
from agente_films.runs.track import RunTrack, StepFacts




def title_from_outline(outline: str) -> str | None:
    for line in outline.splitlines():
        if line.startswith("**Title:**"):
            return line.removeprefix("**Title:**").strip()[:300] or None
    return None


@dataclass
class RowPlan:
    """Everything stored for one ADK event, written in the transaction that stores the event."""

    event_id: str
    agent: str
    event_row: dict[str, Any]
    reasoning: list[dict[str, Any]] = field(default_factory=list)
    answer: dict[str, Any] | None = None
    snapshot: dict[str, Any] | None = None
    invocation_id: str | None = None  # the run's ADK invocation, recorded on its first event
    new_project: dict[str, str] | None = None
    project_id: str | None = None
    project_title: str | None = None
    document: str | None = None
    notes: list[dict[str, Any]] = field(default_factory=list)  # the producer's notes as the state has them now


@dataclass
class RunRows:
    """Plans the rows of one run's events; holds the run's current project."""

    project_id: str | None

    def step(self, event_type: str, step: StepFacts) -> dict[str, Any]:
        """The agent_events row of an agent starting or finishing."""
        return {"agent_name": step.agent, "event_type": event_type, "event_data": step.as_row()}

    def plan(self, facts: EventFacts, track: RunTrack, state: dict[str, Any]) -> RowPlan:
        """`state` is the public session state right after the event; `track.state_version` has
        been moved on already if the event changed it."""
        agent = facts.author
        plan = RowPlan(event_id=facts.event_id, agent=agent, event_row={})
        if not track.invocation_recorded and facts.invocation_id:
            track.invocation_recorded = True
            plan.invocation_id = facts.invocation_id

        plan.reasoning += [{"reasoning_type": "thought", "reasoning_text": text} for text in facts.thoughts]
        for call in facts.calls:
            kind = INTERNAL_TOOLS.get(call.name, "tool_call")
            if kind == "transfer":
                summary = f"{agent} hands over to {call.args.get('agent_name')}"
            elif kind == "loop_exit":
                loop, iteration = track.loop_of(agent)
                summary = f"{agent} ends {loop or 'the loop'} after round {iteration}"
            else:
                summary = f"{call.name}({to_json(call.args)[:TOOL_TEXT_LIMIT]})"
            plan.reasoning.append({
                "reasoning_type": kind,
                "reasoning_text": summary,
                "tool_calls": {"id": call.id, "name": call.name, "args": call.args},
            })
        for result in facts.results:
            plan.reasoning.append({
                "reasoning_type": "tool_result",
                "reasoning_text": f"{result.name} -> {to_json(result.response)[:TOOL_TEXT_LIMIT]}",
                "tool_calls": {"id": result.id, "name": result.name, "response": result.response},
            })
        if facts.transfer_to and not any(INTERNAL_TOOLS.get(c.name) == "transfer" for c in facts.calls):
            # A tool that hands over itself (the greeter's brief): the hand-over is its own row.
            plan.reasoning.append({
                "reasoning_type": "transfer",
                "reasoning_text": f"{agent} hands over to {facts.transfer_to}",
            })
        if facts.failure:
            plan.reasoning.append({"reasoning_type": "error", "reasoning_text": facts.failure})

        delta = facts.state_delta
        if delta:
            plan.snapshot = {
                "version": track.state_version,
                "changed_keys": sorted(delta),
                "state_value": state,
                "agent_name": agent,
            }
            subject = delta.get(keys.PROMPT)
            if subject:
                self.project_id = new_id()
                plan.new_project = {"id": self.project_id, "subject": str(subject)}
            if keys.PRODUCER_NOTES in delta:
                plan.notes = producer_notes.as_notes(delta[keys.PRODUCER_NOTES])
            outline = delta.get(keys.PLOT_OUTLINE)
            if outline and self.project_id:
                plan.project_title = title_from_outline(str(outline))
        plan.project_id = self.project_id
        plan.document = next(iter(facts.artifact_delta)) if facts.artifact_delta else None
        if facts.text and agent != "user":
            plan.answer = {
                "project_id": self.project_id,
                "agent_name": agent,
                "answer_text": facts.text,
                "metadata_": {"branch": facts.branch, "invocation_id": facts.invocation_id},
            }
        plan.event_row = {
            "invocation_id": facts.invocation_id,
            "agent_name": agent,
            "branch": facts.branch,
            "event_type": facts.kind,
            "event_data": {
                "text": facts.text[:500],
                "function_calls": [c.name for c in facts.calls],
                "function_responses": [r.name for r in facts.results],
                "state_delta_keys": sorted(delta),
                "artifact_delta": dict(facts.artifact_delta),
                "transfer_to_agent": facts.transfer_to,
                "escalate": facts.escalate,
                "usage": facts.usage,
                "error": facts.failure.split(": ", 1)[-1] if facts.failure else None,
            },
        }
        return plan
