"""The agent tree: greeter -> film_concept_team = [writers_room (loop), preproduction_team
(parallel), file_writer]."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from agente_films.agents import (
    box_office,
    casting,
    critic,
    file_writer,
    greeter,
    researcher,
    screenwriter,
)
from agente_films import state_keys as keys
from agente_films.settings import Settings
from agente_films.tools.brief import make_brief_tool
from agente_films.tools.notes import make_note_verdict_tool
from agente_films.tools.pitch_document import make_pitch_document_tool
from agente_films.tools.state import make_state_tool

from google.adk.agents import LlmAgent, LoopAgent, ParallelAgent, SequentialAgent

# Sequential/Loop/ParallelAgent are deprecated in ADK 2.x in favour of Workflow, but a Workflow
# cannot be a sub-agent of an LlmAgent, and the greeter must hand off to the team. ADK warns each
# time it builds or copies one of them; silence exactly that warning, nothing else.
warnings.filterwarnings(
    "ignore", message=r"(Sequential|Loop|Parallel)Agent is deprecated", category=DeprecationWarning
)

APP_NAME = "agente_films"
LOOP_AGENT = "writers_room"
TEAM_AGENT = "film_concept_team"
AGENT_NAMES = (
    "greeter",
    "researcher",
    "screenwriter",
    "critic",
    "box_office_researcher",
    "casting_agent",
    "file_writer",
)


def build_root_agent(
    settings: Settings, model_for: Callable[[str], Any], wikipedia_tool: Callable[..., Any]
) -> LlmAgent:
    """The whole team; `model_for(agent_name)` gives each LLM agent its model."""
    cap = settings.max_state_value_chars
    writers_room = LoopAgent(
        name=LOOP_AGENT,
        description="Research, draft and critique until the critic approves.",
        sub_agents=[
            researcher.build(
                model_for("researcher"), make_state_tool({keys.RESEARCH}, cap), wikipedia_tool
            ),
            screenwriter.build(model_for("screenwriter")),
            critic.build(
                model_for("critic"), make_state_tool({keys.CRITICAL_FEEDBACK}, cap), make_note_verdict_tool(cap)
            ),
        ],
        max_iterations=settings.writers_room_max_iterations,
    )
    preproduction_team = ParallelAgent(
        name="preproduction_team",
        description="Box-office and casting reports, side by side.",
        sub_agents=[
            box_office.build(model_for("box_office_researcher")),
            casting.build(model_for("casting_agent")),
        ],
    )
    film_concept_team = SequentialAgent(
        name=TEAM_AGENT,
        description="Develops the film pitch: writers' room, preproduction, pitch document.",
        sub_agents=[
            writers_room,
            preproduction_team,
            file_writer.build(
                model_for("file_writer"), make_pitch_document_tool(settings.max_document_bytes)
            ),
        ],
    )
    return greeter.build(model_for("greeter"), make_brief_tool(TEAM_AGENT, cap), film_concept_team)
