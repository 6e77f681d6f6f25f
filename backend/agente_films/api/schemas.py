"""Request and response bodies of the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, computed_field

from agente_films.auth.accounts import MAX_TOKEN_DAYS
from agente_films.auth.principal import Via
from agente_films.db.tables import as_utc
from agente_films.protocol import ErrorCode, NoteStatus, Stage, Tone
from agente_films.settings import AuthMode
from agente_films.text import plain_text
from agente_films.sharing import DEFAULT_DAYS as SHARE_DEFAULT_DAYS, MAX_DAYS as SHARE_MAX_DAYS


# Page offsets past a 32-bit integer skip everything there could be; larger ones would overflow
# the database's integer (a 500), so they are refused with a 422 first.
MAX_OFFSET = 2**31 - 1

# SQLite returns naive timestamps; they were written in UTC, so say so in the JSON.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


class ErrorOut(BaseModel):
    """Every refusal's body (errors.py's domain errors, api/guards/errors.py): what went wrong in
    words and as a stable code; the socket sends the same as a protocol.ControlError frame.
    FastAPI's own 422 for a malformed request is {detail: [...]} instead (HTTPValidationError)."""

    detail: str
    code: ErrorCode
    # The run in the way (run_in_progress, too_many_notes).
    run_id: str | None = None
    # rate_limited: seconds until the limit lets the next one through (the Retry-After header too).
    retry_after: int | None = None
    # stale_version: the session's state version now.
    current_version: int | None = None


class Orm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SessionCreate(BaseModel):
    title: plain_text(200) | None = None


class SessionUpdate(BaseModel):
    title: plain_text(200, min_length=1)


class SessionOut(Orm):
    id: str
    title: str
    status: str
    model: str
    created_at: UtcDatetime
    updated_at: UtcDatetime
    subject: str | None = None
    active_run_id: str | None = None
    # A branch: the session it was branched from, and where (see BranchPoint).
    parent_id: str | None = None
    branch_point: BranchPoint | None = None
    # Archived for being idle (retention) or by its owner: read-only until unarchived.
    archived_at: UtcDatetime | None = None


class BranchPoint(BaseModel):
    """Where a branch starts: everything up to state snapshot `version` of the parent, which is
    the end of `round` of the writers' room in run `run_id` when it was branched from a round."""

    version: int
    round: int | None = None
    run_id: str | None = None
    # The parent's state versions that were copied (1..version) and its ADK events up to there.
    events: int = 0


class SessionPage(BaseModel):
    items: list[SessionOut]
    total: int
    limit: int
    offset: int


class MessageIn(BaseModel):
    content: str
    # Direction chips chosen in the UI (tone and genre); they travel with the subject.
    direction: list[Tone] = Field(default_factory=list, max_length=6)


class NoteOut(BaseModel):
    """A message sent while the team works: stored as a producer's note for the writers' room."""

    note_id: str
    run_id: str | None
    session_id: str
    text: str
    status: NoteStatus
    # Where it goes: the next round of the running run, or the next run (the run has ended).
    applies_to: str


class AnswerOut(Orm):
    id: str
    agent_name: str
    answer_text: str
    event_id: str
    created_at: UtcDatetime


class ReasoningOut(Orm):
    id: str
    agent_name: str
    reasoning_type: str
    reasoning_text: str
    tool_calls: dict[str, Any] | None
    answer_id: str | None
    # The ADK event it came from: rows of one event share it (a reply's text and its tool calls).
    event_id: str
    created_at: UtcDatetime


class QuestionOut(Orm):
    id: str
    question_text: str
    # "message" (it started the run with this id) or "note" (said to a running run)
    kind: str = "message"
    note_status: str | None = None
    run_status: str
    run_error: str | None
    project_id: str | None
    created_at: UtcDatetime
    finished_at: UtcDatetime | None
    invocation_id: str | None = Field(default=None, exclude=True)

    @computed_field
    @property
    def resumable(self) -> bool:
        """Interrupted or failed after the agents had started: POST .../runs/{id}/resume continues it."""
        return self.run_status in ("interrupted", "failed") and self.invocation_id is not None


class AgentEventOut(Orm):
    id: str
    question_id: str | None
    event_id: str
    agent_name: str
    branch: str | None
    event_type: str
    event_data: dict[str, Any]
    elapsed_ms: int | None
    created_at: UtcDatetime


class UsageTotals(BaseModel):
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


class UsageLine(UsageTotals):
    run_id: str | None
    agent_name: str
    model: str


class UsageOut(BaseModel):
    """Token usage and cost: the whole session, per agent, per run, and each (run, agent, model)."""

    session_id: str
    total: UsageTotals
    by_agent: dict[str, UsageTotals]
    by_run: dict[str, UsageTotals]
    lines: list[UsageLine]

    @classmethod
    def from_lines(cls, session_id: str, lines: list[dict[str, Any]]) -> UsageOut:
        def add(into: UsageTotals, line: dict[str, Any]) -> None:
            for key in ("calls", "prompt_tokens", "completion_tokens", "cost_usd"):
                setattr(into, key, getattr(into, key) + line[key])

        total, by_agent, by_run = UsageTotals(), {}, {}
        for line in lines:
            add(total, line)
            add(by_agent.setdefault(line["agent_name"], UsageTotals()), line)
            add(by_run.setdefault(line["run_id"] or "", UsageTotals()), line)
        return cls(
            session_id=session_id,
            total=total,
            by_agent=by_agent,
            by_run=by_run,
            lines=[UsageLine(**line) for line in lines],
        )


class RunOut(BaseModel):
    run_id: str
    session_id: str
    status: str
    error: str | None = None
    question: str
    created_at: UtcDatetime
    finished_at: UtcDatetime | None = None
    answers: list[AnswerOut] = []
    usage: UsageOut | None = None


class HistoryItem(BaseModel):
    question: QuestionOut
    answers: list[AnswerOut]
    reasoning: list[ReasoningOut]


class HistoryOut(BaseModel):
    session_id: str
    items: list[HistoryItem]


class StateOut(BaseModel):
    session_id: str
    version: int
    state: dict[str, Any]


class StateVersionOut(Orm):
    version: int
    changed_keys: list[str]
    agent_name: str | None
    question_id: str | None
    created_at: UtcDatetime


class StateSnapshotOut(StateVersionOut):
    state_value: dict[str, Any]


class PitchVersionOut(BaseModel):
    version: int
    created_at: UtcDatetime | None
    size: int | None
    # 0 for the first pitch, then 1, 2, ... for each revision, with the notes that produced it.
    revision: int = 0
    notes: list[str] = []
    # The run that saved it, and whether an undo has since taken that run's change back (the
    # version stays downloadable).
    run_id: str | None = None
    undone: bool = False
    markdown_url: str
    pdf_url: str


class PitchOut(BaseModel):
    filename: str
    latest_version: int
    versions: list[PitchVersionOut]


class SharedPitchVersionOut(BaseModel):
    """A pitch version as a share link shows it: the document, not the producer's notes, the
    run that saved it or whether it was undone (PitchVersionOut, the owner's, has those)."""

    version: int
    created_at: UtcDatetime | None
    size: int | None
    revision: int = 0
    markdown_url: str
    pdf_url: str


class SharedPitchOut(BaseModel):
    filename: str
    latest_version: int
    versions: list[SharedPitchVersionOut]


class ProjectCreate(BaseModel):
    session_id: str = Field(max_length=64)
    title: plain_text(300, min_length=1)
    subject: plain_text(2000, min_length=1)


class ProjectUpdate(BaseModel):
    title: plain_text(300, min_length=1) | None = None
    subject: plain_text(2000, min_length=1) | None = None
    status: str | None = Field(default=None, pattern="^(developing|pitched|archived)$")


class ProjectOut(Orm):
    id: str
    session_id: str
    title: str
    subject: str
    status: str
    document: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class HealthOut(BaseModel):
    status: str
    database: str
    redis: str
    model: str


class LiveOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    """`status` is "ok" or "not ready"; each check says "ok", "not configured" (Redis) or what is
    wrong; `failed` names the checks that are not ok."""

    status: str
    database: str
    redis: str
    migrations: str
    failed: list[str]


class InfoOut(BaseModel):
    version: str
    models: dict[str, Any]
    offline: bool
    max_message_chars: int
    writers_room_max_iterations: int
    agents: dict[str, Any]


class RegenerateIn(BaseModel):
    """Run one stage again on the current pitch; the others keep their work. `writers_room` drafts
    again from the current outline (preproduction then follows the new outline)."""

    stage: Stage


class StateEditIn(BaseModel):
    """A change by hand to the keys a person may edit (`PLOT_OUTLINE`, `direction`), against the
    state version it was made on (409 with the current version if the state moved on since)."""

    expected_version: int = Field(ge=0, le=2**31 - 1)
    changes: dict[str, Any] = Field(min_length=1)


class StateEditOut(BaseModel):
    session_id: str
    # The run id of the edit (a question of kind edit): it is in /timeline and /history.
    edit_id: str | None
    version: int
    # The outline sections (Title, Logline, Act I...) and keys the edit changed.
    changed: list[str]
    state: dict[str, Any]


class UndoOut(BaseModel):
    session_id: str
    undo_id: str
    # The question (a revision's run, a regeneration or an edit) undone, and the state version
    # whose pitch is now current again.
    undid: str
    undid_kind: str
    restored_version: int
    version: int
    state: dict[str, Any]


class BranchIn(BaseModel):
    """Where to branch: a state snapshot version, or the end of a writers' room round (of `run_id`,
    by default the latest run that had that round). Exactly one of from_version and from_round."""

    from_version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    from_round: int | None = Field(default=None, ge=1, le=1000)
    run_id: plain_text(36) | None = None
    title: plain_text(200) | None = None


class DraftOut(BaseModel):
    """One outline draft: the state version where the outline changed, who changed it (the
    screenwriter, or the producer by hand) and in which run and round."""

    # 1, 2, ... in the session's order of drafts ("Draft 2").
    number: int
    version: int
    agent: str | None
    run_id: str | None
    round: int | None = None
    # "Draft 2 · round 2 (v14)", "Draft 3 · edited by hand (v20)": as the comparison labels it.
    label: str
    title: str | None = None
    created_at: UtcDatetime
    # The outline at this version as Markdown (GET /sessions/{id}/drafts/{version}).
    download_url: str


class CompareSide(BaseModel):
    ref: str
    session_id: str
    kind: Literal["draft", "pitch"]
    label: str
    text: str
    # Where to download it: a pitch version's Markdown, or the draft's Markdown.
    download_url: str


class CompareOut(BaseModel):
    a: CompareSide
    b: CompareSide


# Sign-in and accounts (api/routes/auth.py)


class AuthConfigOut(BaseModel):
    """How people sign in here: public, read by the UI before anyone is signed in."""

    auth_mode: AuthMode
    # Whether the UI offers a sign-up form (AUTH_MODE=password and SIGNUP_OPEN).
    signup_open: bool
    # Whether the UI offers "Sign in with the provider" (AUTH_MODE=oidc).
    oidc_enabled: bool


class MeOut(BaseModel):
    """The signed-in caller. `csrf_token` (cookie sign-ins only) goes back in the X-CSRF-Token
    header of every POST, PUT, PATCH and DELETE the page makes."""

    user_id: str
    username: str
    is_admin: bool
    via: Via
    csrf_token: str | None = None


class SignInIn(BaseModel):
    username: plain_text(200, min_length=1)
    # Longer than any password can be (the rules allow 256): such a one is simply wrong.
    password: str = Field(min_length=1, max_length=1024)


class SignUpIn(BaseModel):
    username: plain_text(200, min_length=1)
    password: str = Field(min_length=1, max_length=1024)


class PasswordChangeIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class ApiTokenIn(BaseModel):
    name: plain_text(100, min_length=1)
    # Days until it stops working; leave out for a token that lasts until revoked.
    expires_in_days: int | None = Field(default=None, ge=1, le=MAX_TOKEN_DAYS)


class ApiTokenOut(Orm):
    id: str
    name: str
    # The token's first characters ("afp_Xy12ab34"): enough to recognise it, useless to sign in.
    prefix: str
    created_at: UtcDatetime
    last_used_at: UtcDatetime | None = None
    expires_at: UtcDatetime | None = None


class ApiTokenCreatedOut(ApiTokenOut):
    # Shown this once: only its hash is kept. Send it as `Authorization: Bearer <token>`.
    token: str


# Share links (api/routes/shares.py, sharing.py)


class ShareIn(BaseModel):
    # How long the link opens, in days.
    days: int = Field(default=SHARE_DEFAULT_DAYS, ge=1, le=SHARE_MAX_DAYS)


class ShareOut(Orm):
    id: str
    # The read-only page to send people: the UI's /shared/<signed token>.
    url: str
    created_at: UtcDatetime
    expires_at: UtcDatetime


class SharedViewOut(BaseModel):
    """What a share link shows, signed in or not: the session's title, its story (a public subset
    of the state: subject, outline, direction, research, the critic's, box-office and casting
    notes) and its pitch documents, downloadable through the link. No user or session ids."""

    title: str
    subject: str | None = None
    state: dict[str, Any]
    pitches: list[SharedPitchOut]
    created_at: UtcDatetime
    updated_at: UtcDatetime
    # When the link stops opening.
    expires_at: UtcDatetime
