"""Every shape the server sends or takes on a run's stream, defined once.

Run frames are AG-UI events (ag-ui-protocol 1.0): each class below is the AG-UI event class with
the extension fields we add declared, so the stock models validate our frames and a stock client
reads them. Extensions every frame of a session's stream carries: `seq` (1, 2, 3, ... per session)
and `runId`; most name their `agent`. CUSTOM events carry one of our typed payloads, told apart by
`name`.

Control messages belong to one WebSocket connection, not to the stream (hello, resync, errors
about a client frame, pong). They have no `type` at all, but a `control` tag: a client hands every
message with a `type` to its AG-UI consumer and keeps the rest, and the AG-UI stream stays valid
(AG-UI requires RUN_STARTED first and allows nothing outside a run).

The frontend's types are generated from these models (they are part of the OpenAPI document: see
`api/app.py`), with a drift test like the REST schema's.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

import ag_ui.core as agui
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter
from pydantic.alias_generators import to_camel

PROTOCOL_VERSION = agui.PROTOCOL_VERSION

# The statuses a run can end with, and how each ends on the stream: completed and cancelled are
# RUN_FINISHED (outcome success / cancelled); failed and interrupted are RUN_ERROR (code below).
RunStatus = Literal["running", "completed", "failed", "cancelled", "interrupted"]
RUN_FAILED = "run_failed"
RUN_INTERRUPTED = "run_interrupted"


class Wire(BaseModel):
    """Our own payloads: camelCase on the wire, like AG-UI."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


# -- AG-UI events with our extensions ------------------------------------------------------------


class BranchedAt(Wire):
    version: int
    round: int | None = None


class RunResult(Wire):
    """RUN_FINISHED.result: the run's status in our vocabulary, for clients that want more than
    AG-UI's outcome."""

    status: RunStatus
    error: str | None = None
    # A branch's copy of a run its branch point cut short: where the branch starts in it.
    branched_at: BranchedAt | None = None



# What a run is: the person's message to the team, a regeneration of one stage, or a producer's
# change of the state without agents (an edit by hand, an undo), which is a run of one state change.
RunKind = Literal["message", "regenerate", "edit", "undo"]
# The stages a person can regenerate alone (POST /sessions/{id}/regenerate).
Stage = Literal["writers_room", "box_office", "casting", "document"]


class RunStarted(agui.RunStartedEvent, Wire):
    seq: int | None = None
    question: str
    # Set when an interrupted or failed run continues from its checkpoint.
    resumed: bool = False
    kind: RunKind = "message"
    # For a regeneration: the stage regenerated.
    stage: Stage | None = None


class RunFinished(agui.RunFinishedEvent, Wire):
    seq: int | None = None
    result: RunResult
    cost_usd: float | None = None


class RunError(agui.RunErrorEvent, Wire):
    seq: int | None = None
    run_id: str
    # A readable message is in `message`; the raw error stays in the stored run and the logs.
    status: RunStatus
    resumable: bool = False
    cost_usd: float | None = None


class _Step(Wire):
    seq: int | None = None
    run_id: str | None = None
    agent: str
    agent_kind: str | None = None
    parent: str | None = None
    iteration: int | None = None
    max_iterations: int | None = None
    handed_off_to: str | None = None
    # Passed over in a revision: it kept its earlier report, as no note concerns it.
    kept: bool | None = None


class StepStarted(agui.StepStartedEvent, _Step):
    pass


class StepFinished(agui.StepFinishedEvent, _Step):
    pass


class _Agent(Wire):
    seq: int | None = None
    run_id: str | None = None
    agent: str | None = None


class TextMessageStart(agui.TextMessageStartEvent, _Agent):
    pass


class TextMessageContent(agui.TextMessageContentEvent, _Agent):
    pass


class TextMessageEnd(agui.TextMessageEndEvent, _Agent):
    pass


class ToolCallStart(agui.ToolCallStartEvent, _Agent):
    pass


class ToolCallArgs(agui.ToolCallArgsEvent, _Agent):
    pass


class ToolCallEnd(agui.ToolCallEndEvent, _Agent):
    pass


class ToolCallResult(agui.ToolCallResultEvent, _Agent):
    content: str
    tool_name: str | None = None


class StateSnapshot(agui.StateSnapshotEvent, _Agent):
    # The state snapshot version (GET /sessions/{id}/states/{version}) this is.
    version: int


class StateDelta(agui.StateDeltaEvent, _Agent):
    # The snapshot version the delta produced.
    version: int


# -- CUSTOM events: our typed payloads --------------------------------------------------------


class ArtifactSavedValue(Wire):
    filename: str
    version: int
    agent: str | None = None
    markdown_url: str
    pdf_url: str


class UsageValue(Wire):
    agent: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    run_cost_usd: float


class AgentTransferValue(Wire):
    from_: str = Field(alias="from")
    to: str


class LoopExitValue(Wire):
    agent: str
    loop: str | None = None
    iteration: int | None = None


class AgentErrorValue(Wire):
    agent: str
    message: str


class RunQueuedValue(Wire):
    ahead: int


NoteStatus = Literal["pending", "taken", "addressed", "not_addressed"]


class NoteReceivedValue(Wire):
    """A producer's note sent while the team works, stored and queued for the next round."""

    note_id: str
    text: str
    # Set when the run it was sent to ended before taking it: it waits for the next run.
    kept_for_next_run: bool = False


class NoteTakenValue(Wire):
    """The writers' room took the note at the start of a round."""

    note_id: str
    text: str
    round: int
    revision: int


class NoteVerdictValue(Wire):
    """The critic's verdict on a taken note, in the critic's words."""

    note_id: str
    text: str
    addressed: bool
    verdict: str
    round: int | None = None


class _Custom(agui.CustomEvent, _Agent):
    pass


class ArtifactSaved(_Custom):
    name: Literal["artifact_saved"] = "artifact_saved"
    value: ArtifactSavedValue


class Usage(_Custom):
    name: Literal["usage"] = "usage"
    value: UsageValue


class AgentTransfer(_Custom):
    name: Literal["agent_transfer"] = "agent_transfer"
    value: AgentTransferValue


class LoopExit(_Custom):
    name: Literal["loop_exit"] = "loop_exit"
    value: LoopExitValue


class AgentError(_Custom):
    name: Literal["agent_error"] = "agent_error"
    value: AgentErrorValue


class RunQueued(_Custom):
    name: Literal["run_queued"] = "run_queued"
    value: RunQueuedValue


class NoteReceived(_Custom):
    name: Literal["note_received"] = "note_received"
    value: NoteReceivedValue


class NoteTaken(_Custom):
    name: Literal["note_taken"] = "note_taken"
    value: NoteTakenValue


class NoteVerdict(_Custom):
    name: Literal["note_verdict"] = "note_verdict"
    value: NoteVerdictValue


_FRAME_CLASSES: tuple[type[BaseModel], ...] = (
    RunStarted, RunFinished, RunError, StepStarted, StepFinished, TextMessageStart, TextMessageContent,
    TextMessageEnd, ToolCallStart, ToolCallArgs, ToolCallEnd, ToolCallResult, StateSnapshot, StateDelta,
    ArtifactSaved, Usage, AgentTransfer, LoopExit, AgentError, RunQueued, NoteReceived, NoteTaken, NoteVerdict,
)


def _tag_of(cls: type[BaseModel]) -> str:
    kind = cls.model_fields["type"].default
    kind = getattr(kind, "value", kind)
    return f"CUSTOM:{cls.model_fields['name'].default}" if kind == "CUSTOM" else str(kind)


def _frame_tag(value: Any) -> str | None:
    """Frames are told apart by `type`, and CUSTOM ones by `name` too (one flat union: OpenAPI
    has no nested discriminators)."""
    get = value.get if isinstance(value, dict) else lambda key: getattr(value, key, None)
    kind = get("type")
    kind = getattr(kind, "value", kind)
    return f"CUSTOM:{get('name')}" if kind == "CUSTOM" else kind


RunFrame = Annotated[
    Union[tuple(Annotated[cls, Tag(_tag_of(cls))] for cls in _FRAME_CLASSES)],  # type: ignore[valid-type]
    Discriminator(_frame_tag),
]
"""One event of a session's stream."""

TERMINAL_TYPES = frozenset({agui.EventType.RUN_FINISHED.value, agui.EventType.RUN_ERROR.value})


def dump(frame: BaseModel) -> dict[str, Any]:
    """A frame as it goes on the wire: camelCase, without unset optional fields."""
    return frame.model_dump(mode="json", by_alias=True, exclude_none=True)


# -- control messages (one connection, no seq) ----------------------------------------------------


class Hello(Wire):
    """First message on every connection: where the stream is, and what runs now."""

    control: Literal["hello"] = "hello"
    session_id: str
    stream: str | None
    last_seq: int
    active_run_id: str | None
    model: str
    protocol_version: str = PROTOCOL_VERSION


ResyncReason = Literal["new stream", "ahead of stream", "frames trimmed", "stream unavailable"]


class Resync(Wire):
    """The frames after your `after` are gone (or the server restarted, or a resume began a new
    stream): reload the history over REST, then go on with the frames that follow."""

    control: Literal["resync"] = "resync"
    stream: str | None
    last_seq: int
    reason: ResyncReason


ErrorCode = Literal[
    "bad_frame",
    "frame_too_large",
    "unknown_type",
    "empty_message",
    "bad_text",
    "message_too_long",
    "run_in_progress",
    "too_many_notes",
    "not_resumable",
    "no_run",
    "session_not_found",
    "stream_unavailable",
    "unavailable",
    "bad_request",
    "stale_version",
    "not_editable",
    "nothing_to_undo",
    "nothing_to_regenerate",
    "not_found",
    "conflict",
    "too_large",
    "not_signed_in",
    "forbidden",
    "csrf_failed",
    "origin_refused",
    "rate_limited",
    "archived",
    "bad_credentials",
    "internal_error",
]


class ControlError(Wire):
    """A client frame was refused (the socket stays open), or the stream is unavailable."""

    control: Literal["error"] = "error"
    code: ErrorCode
    message: str
    status: int
    run_id: str | None = None
    # rate_limited: seconds until the limit lets the next one through (REST's Retry-After).
    retry_after: int | None = None


class Pong(Wire):
    control: Literal["pong"] = "pong"


class RunEnded(Wire):
    """How a run ended, told by the process that ran it when the stream could not carry it (Redis
    down): the client marks the run ended and reloads its history."""

    control: Literal["run_ended"] = "run_ended"
    run_id: str
    status: RunStatus
    error: str | None = None


ControlMessage = Annotated[
    Union[Hello, Resync, ControlError, Pong, RunEnded], Field(discriminator="control")
]

ServerMessage = Union[RunFrame, ControlMessage]
"""Anything the session socket sends."""


# -- client frames --------------------------------------------------------------------------------


Tone = Literal["drama", "thriller", "comedy", "family", "darker", "lighter"]
"""The direction chips the UI offers; free notes go in the message itself."""


class SendMessage(Wire):
    """A message to the greeter; while a run works, a note for the writers' room."""

    type: Literal["message"]
    content: str
    direction: list[Tone] = Field(default_factory=list, max_length=6)


class CancelRun(Wire):
    type: Literal["cancel"]


class Ping(Wire):
    type: Literal["ping"]


ClientFrame = Annotated[Union[SendMessage, CancelRun, Ping], Field(discriminator="type")]


# -- history --------------------------------------------------------------------------------------


class RunFrames(Wire):
    """One past run as the frames a live client would have seen (rebuilt from stored rows)."""

    run_id: str
    frames: list[RunFrame]


class SessionTimeline(Wire):
    session_id: str
    runs: list[RunFrames]


run_frame_adapter: TypeAdapter[Any] = TypeAdapter(RunFrame)
server_message_adapter: TypeAdapter[Any] = TypeAdapter(ServerMessage)
client_frame_adapter: TypeAdapter[Any] = TypeAdapter(ClientFrame)


def wire_schemas() -> dict[str, Any]:
    """JSON Schemas of everything on the socket, as OpenAPI components (the frontend's types are
    generated from them): `ServerMessage`, `ClientFrame` and every shape they use."""
    components: dict[str, Any] = {}
    for name, adapter in (("ServerMessage", server_message_adapter), ("ClientFrame", client_frame_adapter)):
        schema = adapter.json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
        components.update(schema.pop("$defs", {}))
        components[name] = schema
    _openapi_discriminators(components)
    for component in components.values():
        # Tags (type, name, control) have defaults but are always sent: required, so that the
        # generated TypeScript unions narrow on them. Fields left None are left out (exclude_none).
        for prop in component.get("properties", {}).values():
            if "default" in prop and prop["default"] is None:
                del prop["default"]  # left out on the wire: optional, not "present and null"
        tags = [key for key, prop in component.get("properties", {}).items() if "const" in prop]
        if tags:
            component["required"] = sorted(set(component.get("required", [])) | set(tags))
    return components


def _openapi_discriminators(node: Any) -> None:
    """OpenAPI wants discriminator mappings to name schemas; pydantic inlines a nested union's
    (CUSTOM by `name` inside the union by `type`). Keep the named ones; the union still lists all."""
    if isinstance(node, dict):
        mapping = node.get("discriminator", {}).get("mapping") if isinstance(node.get("discriminator"), dict) else None
        if isinstance(mapping, dict):
            node["discriminator"]["mapping"] = {k: v for k, v in mapping.items() if isinstance(v, str)}
        for value in node.values():
            _openapi_discriminators(value)
    elif isinstance(node, list):
        for value in node:
            _openapi_discriminators(value)
