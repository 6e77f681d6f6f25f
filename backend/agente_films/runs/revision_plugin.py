"""The ADK plugin that lets the producer direct the team: notes reach the writers' room at each
round's start, a revision reruns only what its notes touch, a regeneration reruns only its stage,
and the critic cannot approve a draft that leaves a note unaddressed.

Everything it changes goes through ADK's own state delta (the event a before_agent callback's
state change makes), so snapshots, rows and frames see notes like any other state change.
Registered after `StepPlugin`, which passes over agents a resumed run already finished.
"""

from __future__ import annotations

from typing import Any

from google.adk.agents import BaseAgent, ParallelAgent
from google.adk.agents.callback_context import CallbackContext
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.plugins.base_plugin import BasePlugin
from google.adk.tools.base_tool import BaseTool
from google.adk.tools.tool_context import ToolContext
from google.genai import types

from agente_films import notes as producer_notes
from agente_films import state_keys as keys
from agente_films.intent import note_effect
from agente_films.runs.context import running
from agente_films.runs.track import is_loop


def round_start(agent: BaseAgent) -> bool:
    parent = agent.parent_agent
    return is_loop(parent) and parent.sub_agents[0].name == agent.name


# What each stage's regeneration runs again besides the file writer (which always saves the next
# version): the writers' room drafts anew, so both reports follow the new outline.
STAGE_RERUNS: dict[str, frozenset[str]] = {
    "writers_room": frozenset({"writers_room", "box_office_researcher", "casting_agent"}),
    "box_office": frozenset({"box_office_researcher"}),
    "casting": frozenset({"casting_agent"}),
    "document": frozenset(),
}


# What each stage is called for people (the question a regeneration stores, the greeter's words).
STAGE_LABELS: dict[str, str] = {
    "writers_room": "the writers' room, from the current outline",
    "box_office": "the box-office report",
    "casting": "the casting report",
    "document": "the pitch document",
}


def regenerating(state: Any) -> str | None:
    """The stage this revision regenerates, if it is a regeneration."""
    value = state.get(keys.REGENERATE)
    if isinstance(value, dict) and value.get("revision") == int(state.get(keys.REVISION) or 0):
        stage = value.get("stage")
        return stage if stage in STAGE_RERUNS else None
    return None


def keeps_its_work(agent: BaseAgent, state: Any) -> bool:
    """In a revision, a preproduction agent keeps its report unless a note of this revision
    concerns it (a casting note reruns casting); in a regeneration, the writers' room and each
    report keep theirs unless the stage reruns them."""
    output_key = getattr(agent, "output_key", None)
    revision = int(state.get(keys.REVISION) or 0)
    stage = regenerating(state)
    if is_loop(agent):
        return stage is not None and agent.name not in STAGE_RERUNS[stage] and bool(state.get(keys.PLOT_OUTLINE))
    if not isinstance(agent.parent_agent, ParallelAgent) or not output_key or revision == 0:
        return False
    if not str(state.get(output_key) or "").strip():
        return False
    if stage is not None:
        return agent.name not in STAGE_RERUNS[stage]
    notes = producer_notes.of_revision(state.get(keys.PRODUCER_NOTES), revision)
    return not any(agent.name in note_effect(note["text"]).touches for note in notes)


def hand_over(team_agent: str, stage: str) -> LlmResponse:
    """The greeter's turn in a regeneration: the person asked for it with a button, not in words,
    so there is nothing to read and no model call to spend; it hands over to the team."""
    return LlmResponse(content=types.Content(role="model", parts=[
        types.Part.from_text(text=f"Regenerating {STAGE_LABELS[stage]}; the rest of the pitch stays as it is."),
        types.Part(function_call=types.FunctionCall(name="transfer_to_agent", args={"agent_name": team_agent})),
    ]))


class RevisionPlugin(BasePlugin):
    def __init__(self, *, root_agent: str, team_agent: str) -> None:
        super().__init__(name="agente_films_revisions")
        self.root_agent = root_agent
        self.team_agent = team_agent

    async def before_model_callback(
        self, *, callback_context: CallbackContext, llm_request: LlmRequest
    ) -> LlmResponse | None:
        run = running()
        if run is None or run.regenerating is None or callback_context.agent_name != self.root_agent:
            return None
        return hand_over(self.team_agent, run.regenerating)

    async def before_agent_callback(
        self, *, agent: BaseAgent, callback_context: CallbackContext
    ) -> types.Content | None:
        state = callback_context.state
        run = running()
        if round_start(agent):
            queued = run.take_queued_notes() if run is not None else []
            revision = int(state.get(keys.REVISION) or 0)
            notes = producer_notes.add(
                state.get(keys.PRODUCER_NOTES),
                [producer_notes.new_note(note["id"], note["text"], revision) for note in queued],
            )
            loop = agent.parent_agent.name
            round_number = run.track.loop_iterations.get(loop, 1) if run is not None else 1
            notes, taken = producer_notes.take(notes, round_number)
            if taken or queued:
                state[keys.PRODUCER_NOTES] = notes  # ADK stores it as this agent's state delta
            return None
        if keeps_its_work(agent, state):
            # ADK's documented skip: returned content. Empty, so the report in state is kept as it
            # is and nothing new enters later prompts.
            callback_context.actions.end_of_agent = True
            if run is not None:
                await run.agent_kept(agent)
            return types.Content(role="model", parts=[])
        return None

    async def before_tool_callback(
        self, *, tool: BaseTool, tool_args: dict[str, Any], tool_context: ToolContext
    ) -> dict[str, Any] | None:
        if tool.name != "exit_loop":
            return None
        open_notes = producer_notes.unaddressed(tool_context.state.get(keys.PRODUCER_NOTES))
        if not open_notes:
            return None
        listed = "; ".join(f"{n['id']}: {n['text']}" for n in open_notes)
        return {
            "status": "error",
            "message": "The draft cannot be approved while producer's notes are open (judge each "
            f"with judge_note; a note not addressed needs feedback for another draft): {listed}",
        }
