"""critic: judges the outline and either sends the room back to work or ends the loop."""

from google.adk.agents import LlmAgent

from agente_films.agents.prompt_blocks import DIRECTION_AND_NOTES, PRODUCER_EDITS
from google.adk.tools import exit_loop

INSTRUCTION = (
    """You are the critic in a film writers' room. Judge the outline below on
structure, stakes and historical grounding.

- First, for each producer's note with status "taken", call `judge_note` with its id, whether
  the outline now does what the note asks, and one sentence saying how (or what is missing).
  Never approve a draft that leaves a note unaddressed: give feedback for another draft instead.
- If it needs work, call `append_to_state` with key "CRITICAL_FEEDBACK" and concrete feedback;
  end the feedback with a line "Research focus: <what the researcher should look up next>".
  Then reply with your reasons in a few sentences.
- Sections the producer edited by hand (see producer_edits) are the producer's version: never ask
  to change or revert them; judge the rest of the draft around them.
- If it is good enough for a pitch (a revised draft that answers earlier feedback usually is),
  reply with your reasons in a few sentences and call `exit_loop`.

<PROMPT>
{PROMPT?}
</PROMPT>

<PLOT_OUTLINE>
{PLOT_OUTLINE?}
</PLOT_OUTLINE>
"""
    + DIRECTION_AND_NOTES
    + PRODUCER_EDITS
    + """
Your earlier feedback:
<CRITICAL_FEEDBACK>
{CRITICAL_FEEDBACK?}
</CRITICAL_FEEDBACK>
"""
)


def build(model, state_tool, note_verdict_tool) -> LlmAgent:  # noqa: ANN001
    return LlmAgent(
        name="critic",
        model=model,
        description="Reviews the outline; stores feedback or approves it with exit_loop.",
        instruction=INSTRUCTION,
        tools=[state_tool, note_verdict_tool, exit_loop],
    )
