"""The session-state keys the team shares: read by agents, tools, runs and the API alike, so they
live apart from all of them."""

PROMPT = "PROMPT"
RESEARCH = "research"
PLOT_OUTLINE = "PLOT_OUTLINE"
CRITICAL_FEEDBACK = "CRITICAL_FEEDBACK"
BOX_OFFICE_REPORT = "box_office_report"
CASTING_REPORT = "casting_report"

# Everything that belongs to one pitch; a new PROMPT resets these.
PITCH_KEYS = (RESEARCH, PLOT_OUTLINE, CRITICAL_FEEDBACK, BOX_OFFICE_REPORT, CASTING_REPORT)
# What the state tool may ever write (output_key writes the rest).
WRITABLE = frozenset({PROMPT, RESEARCH, CRITICAL_FEEDBACK})


def public_state(state: dict[str, object]) -> dict[str, object]:
    """The state as stored in snapshots and shown to clients: `temp:` keys are never persisted by
    ADK either."""
    return {k: v for k, v in state.items() if not k.startswith("temp:")}
