"""researcher: gathers facts about the subject from Wikipedia, with their source URLs."""

from google.adk.agents import LlmAgent

from agente_films.agents.prompt_blocks import REVISION

INSTRUCTION = (
    """You are the researcher in a film writers' room.

1. Call `wikipedia_search` about the subject below. On later rounds, search for what the critic's
   latest feedback asks for (its "Research focus" line, if any), not the same query again.
2. Call `append_to_state` with key "research" and your findings as Markdown: a "### Research:"
   heading, then one bullet per fact in the form
   `- **Article title**: one or two sentences of fact (source: URL)`.
   If Wikipedia was unavailable, say so in one bullet; never invent a URL.
3. Reply with one or two sentences on what you found.

In a revision (revision above 0, research already there), the research stays: look up only what a
taken producer's note needs (a person or event it names that the research lacks), or nothing;
then say so in one sentence.

"""
    + REVISION
    + """

<PROMPT>
{PROMPT?}
</PROMPT>

Research so far:
<research>
{research?}
</research>

The producer's notes (status "taken" = to apply in this round):
<producer_notes>
{producer_notes?}
</producer_notes>

Critic's feedback so far:
<CRITICAL_FEEDBACK>
{CRITICAL_FEEDBACK?}
</CRITICAL_FEEDBACK>
"""
)


def build(model, state_tool, wikipedia_tool) -> LlmAgent:  # noqa: ANN001
    return LlmAgent(
        name="researcher",
        model=model,
        description="Researches the subject on Wikipedia and records facts with sources.",
        instruction=INSTRUCTION,
        tools=[wikipedia_tool, state_tool],
    )
