"""box_office_researcher: a short box-office outlook; its reply becomes box_office_report."""

from google.adk.agents import LlmAgent

from agente_films import state_keys as keys
from agente_films.agents.prompt_blocks import DIRECTION_AND_NOTES, REGENERATE, REVISION

INSTRUCTION = (
    """You are a box-office analyst. Write a short box-office outlook (one paragraph)
for the film below: comparable titles with their years, release strategy, budget range, core
audience and the main commercial risk.

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
        name="box_office_researcher",
        model=model,
        description="Estimates the film's box-office potential.",
        instruction=INSTRUCTION,
        output_key=keys.BOX_OFFICE_REPORT,
    )
