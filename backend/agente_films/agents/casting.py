"""casting_agent: casting ideas; its reply becomes casting_report."""

from google.adk.agents import LlmAgent

from agente_films import state_keys as keys
from agente_films.agents.prompt_blocks import DIRECTION_AND_NOTES, REGENERATE, REVISION

INSTRUCTION = (
    """You are a casting director. Write short casting ideas (one paragraph) for the
film below: the lead, the key supporting roles and what to look for in each, and a director.

<PROMPT>
{PROMPT?}
</PROMPT>

<PLOT_OUTLINE>
{PLOT_OUTLINE?}
</PLOT_OUTLINE>
"""
    + DIRECTION_AND_NOTES
    + REGENERATE
    + REVISION
)


def build(model) -> LlmAgent:  # noqa: ANN001
    return LlmAgent(
        name="casting_agent",
        model=model,
        description="Suggests casting for the lead and supporting roles.",
        instruction=INSTRUCTION,
        output_key=keys.CASTING_REPORT,
    )
