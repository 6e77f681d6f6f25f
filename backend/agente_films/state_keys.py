"""The session-state keys the team shares: read by agents, tools, runs and the API alike, so they
live apart from all of them."""

PROMPT = "PROMPT"
RESEARCH = "research"
PLOT_OUTLINE = "PLOT_OUTLINE"
CRITICAL_FEEDBACK = "CRITICAL_FEEDBACK"
BOX_OFFICE_REPORT = "box_office_report"
CASTING_REPORT = "casting_report"
# How the pitch should feel (tone, genre, audience, length, focus), set by the greeter with the subject.
DIRECTION = "direction"
# The producer's notes on the current pitch: a list of {id, text, status, round, revision, addressed,
# verdict} (see `notes.py`); the writers' room takes them at a round's start, the critic judges them.
PRODUCER_NOTES = "producer_notes"
# 0 for the first pitch of a subject, then 1, 2, ... for each revision the greeter hands over.
REVISION = "revision"
# The pitch document's file name, fixed by its first save, so each revision is its next version.
PITCH_DOCUMENT = "pitch_document"

# What the producer changed by hand: {"sections": ["Title", "Logline", "Act II", ...], "revision",
# "version"}; the screenwriter keeps those sections as the producer wrote them, the critic treats
# them as the producer's version (see edits.py).
PRODUCER_EDITS = "producer_edits"
# A regeneration of one stage: {"stage", "revision"}; the stages it does not name keep their work
# in that revision (see runs/revision_plugin.py).
REGENERATE = "regenerate"

# The author of the state events a person makes by hand (edits, undos, a branch's closing event):
# not an agent, so ADK's router never picks it to answer the next message, and not "user", whose
# events carry messages.
PRODUCER = "producer"

# Everything that belongs to one pitch; a new PROMPT resets these.
PITCH_KEYS = (
    RESEARCH, PLOT_OUTLINE, CRITICAL_FEEDBACK, BOX_OFFICE_REPORT, CASTING_REPORT, DIRECTION,
    PRODUCER_NOTES, REVISION, PITCH_DOCUMENT, PRODUCER_EDITS, REGENERATE,
)
# What the state tool may ever write (output_key and the brief and note tools write the rest).
WRITABLE = frozenset({RESEARCH, CRITICAL_FEEDBACK})
# What a person may edit by hand (PATCH /sessions/{id}/state): never research (its sources come
# from Wikipedia), the critic's or preproduction's words, or app:/user:/temp: keys.
EDITABLE = frozenset({PLOT_OUTLINE, DIRECTION})


def public_state(state: dict[str, object]) -> dict[str, object]:
    """The state as stored in snapshots and shown to clients: `temp:` keys are never persisted by
    ADK either."""
    return {k: v for k, v in state.items() if not k.startswith("temp:")}
