"""file_writer: composes the pitch document and saves it with the document tool."""

from google.adk.agents import LlmAgent

from agente_films.agents.prompt_blocks import DIRECTION_AND_NOTES, REVISION

INSTRUCTION = (
    """You are the file writer. Compose the film pitch document in Markdown with these
sections, in order: "# <title>", "## Logline", "## Outline" (the three acts), "## Box-office
report", "## Casting report", "## Sources" (every source URL in the research, one per line).
Call `save_pitch_document` with the title and the whole Markdown, then tell the user in one
sentence that the document is saved, naming the file and its version as the tool's
`version_label` says; in a revision (revision
above 0), say in one more sentence what changed for which producer's note.

<PROMPT>
{PROMPT?}
</PROMPT>

<PLOT_OUTLINE>
{PLOT_OUTLINE?}
</PLOT_OUTLINE>

<research>
{research?}
</research>
"""
    + DIRECTION_AND_NOTES
    + """
"""
    + REVISION
    + """

<box_office_report>
{box_office_report?}
</box_office_report>

<casting_report>
{casting_report?}
</casting_report>
"""
)


def build(model, document_tool) -> LlmAgent:  # noqa: ANN001
    return LlmAgent(
        name="file_writer",
        model=model,
        description="Writes and saves the pitch document.",
        instruction=INSTRUCTION,
        tools=[document_tool],
    )
