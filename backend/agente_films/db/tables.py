"""Our tables (ADK keeps its own `sessions`/`events`/... tables beside them).

ADK's DatabaseSessionService already owns a table called `sessions`, so ours is `studio_sessions`.
The Alembic migrations in db/migrations are the single source of the schema; these classes mirror them.
"""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    desc,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# JSONB on PostgreSQL (indexable with GIN), plain JSON text elsewhere.
JsonType = JSON().with_variant(JSONB(), "postgresql")


_last_tick = 0


def new_id() -> str:
    """A UUID-shaped id that sorts in creation order (time first, then randomness).

    Rows written within the same microsecond still sort in the order they were made, so "order by
    created_at, id" is the order in which events happened.
    """
    global _last_tick
    _last_tick = max(_last_tick + 1, time.time_ns() // 100)
    return str(uuid.UUID(int=(_last_tick << 64) | secrets.randbits(64)))


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without a zone (the columns are timezone-aware); they were
    written in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JsonType}


class StudioSession(Base):
    __tablename__ = "studio_sessions"
    __table_args__ = (
        Index("idx_sessions_created_at", desc("created_at")),
        Index("idx_sessions_status", "status"),
        Index("idx_sessions_parent", "parent_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(128), index=True)
    title: Mapped[str] = mapped_column(String(200), default="New pitch")
    # idle | running | completed | failed | cancelled | interrupted
    status: Mapped[str] = mapped_column(String(20), default="idle")
    model: Mapped[str] = mapped_column(String(200))
    # The person renamed the session: a new subject no longer renames it.
    title_set_by_user: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    # A branch: the session it was branched from (None once that one is deleted) and where:
    # {version, round, run_id} (see branching.py).
    parent_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("studio_sessions.id", ondelete="SET NULL", name="fk_studio_sessions_parent"),
        index=False,
    )
    branch_point: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    # Retention: an idle session is archived (read-only) and later purged (retention.py).
    archived_at: Mapped[datetime | None] = mapped_column()


def _session_fk() -> Any:
    return ForeignKey("studio_sessions.id", ondelete="CASCADE")


class FilmProject(Base):
    __tablename__ = "film_projects"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(String(36), _session_fk(), index=True)
    user_id: Mapped[str] = mapped_column(String(128), index=True)
    title: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(Text)
    # developing | pitched | archived
    status: Mapped[str] = mapped_column(String(20), default="developing")
    document: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Question(Base):
    """One user message, and the run that answers it (run id == question id); or a producer's note
    said while a run worked (kind "note": no run of its own; metadata has the run it was sent to,
    and the round and verdict once taken and judged)."""

    __tablename__ = "questions"
    __table_args__ = (
        Index("idx_questions_session_created", "session_id", desc("created_at")),
        Index("idx_questions_run_status", "run_status"),
        Index("idx_questions_session_note", "session_id", "note_status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(String(36), _session_fk())
    project_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("film_projects.id", ondelete="SET NULL")
    )
    question_text: Mapped[str] = mapped_column(Text)
    # message (starts a run; a regeneration is one too, metadata {"stage"}) | note | edit (the
    # producer changed the outline or direction by hand) | undo (metadata {"undid", "restored_version"})
    kind: Mapped[str] = mapped_column(String(10), default="message", server_default="message")
    # pending | taken | addressed | not_addressed (notes only; as in the state), or dropped: kept
    # for a film the session then left for another subject
    note_status: Mapped[str | None] = mapped_column(String(20))
    agent_name: Mapped[str] = mapped_column(String(100), default="greeter")
    # running | completed | failed | cancelled | interrupted; "note" for a note
    run_status: Mapped[str] = mapped_column(String(20), default="running")
    run_error: Mapped[str | None] = mapped_column(Text)
    # ADK's invocation id: what a resumed run continues from.
    invocation_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (
        Index("idx_answers_session_created", "session_id", desc("created_at")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    question_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[str] = mapped_column(String(36), _session_fk())
    project_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("film_projects.id", ondelete="SET NULL")
    )
    agent_name: Mapped[str] = mapped_column(String(100))
    answer_text: Mapped[str] = mapped_column(Text)
    event_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)


class InferentialReasoning(Base):
    __tablename__ = "inferential_reasoning"
    __table_args__ = (
        Index("idx_reasoning_agent", "agent_name"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(String(36), _session_fk(), index=True)
    question_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    # Filled in once the agent's answer exists; until then the row explains the question.
    answer_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("answers.id", ondelete="SET NULL"), index=True
    )
    agent_name: Mapped[str] = mapped_column(String(100))
    # thought | tool_call | tool_result | transfer | loop_exit | error
    reasoning_type: Mapped[str] = mapped_column(String(20))
    reasoning_text: Mapped[str] = mapped_column(Text, default="")
    tool_calls: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    event_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)


class SessionState(Base):
    """The whole session state after an event that changed it; version 1, 2, ... per session."""

    __tablename__ = "session_states"
    __table_args__ = (
        UniqueConstraint("session_id", "version", name="uq_session_states_version"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(String(36), _session_fk())
    version: Mapped[int] = mapped_column(Integer)
    changed_keys: Mapped[list[str]] = mapped_column(JsonType)
    state_value: Mapped[dict[str, Any]] = mapped_column(JsonType)
    agent_name: Mapped[str | None] = mapped_column(String(100))
    question_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("questions.id", ondelete="SET NULL")
    )
    event_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentEvent(Base):
    __tablename__ = "agent_events"
    __table_args__ = (
        Index("idx_events_agent_type", "agent_name", "event_type"),
        Index("idx_events_session_created", "session_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(String(36), _session_fk())
    question_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(String(64))
    invocation_id: Mapped[str | None] = mapped_column(String(64))
    agent_name: Mapped[str] = mapped_column(String(100))
    branch: Mapped[str | None] = mapped_column(String(300))
    # message | tool_call | tool_result | transfer | loop_exit | state_update | artifact | error
    event_type: Mapped[str] = mapped_column(String(30))
    event_data: Mapped[dict[str, Any]] = mapped_column(JsonType)
    # Milliseconds since the run started: the timing of the run, agent by agent.
    elapsed_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LlmUsage(Base):
    """Tokens and cost of one LLM call, attributed to its agent, run and session."""

    __tablename__ = "llm_usage"
    __table_args__ = (Index("idx_usage_user_created", "user_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(String(36), _session_fk(), index=True)
    question_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(128))
    agent_name: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(200))
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    cost_usd: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A person who signs in (AUTH_MODE password, oidc or proxy). `id` is what owns sessions
    (studio_sessions.user_id) and names their artifact folder, so it is server-made, never typed."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_users_oidc"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # Lower-case sign-in name (password), the provider's e-mail or name (oidc), the header (proxy).
    username: Mapped[str] = mapped_column(String(128), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    oidc_issuer: Mapped[str | None] = mapped_column(String(300))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignIn(Base):
    """A browser's signed-in session: the cookie holds a random token, this row its SHA-256, so a
    stolen database does not sign anyone in and signing out ends it at once."""

    __tablename__ = "sign_ins"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class ApiToken(Base):
    """A personal API token for scripts and the CLI: shown once, stored as its SHA-256."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, to tell tokens apart in the list.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class ShareLink(Base):
    """A read-only link to a session's pitch and story, for people without an account: the URL
    carries a signed token naming this row; revoking or expiry makes it 404."""

    __tablename__ = "share_links"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(String(36), _session_fk(), index=True)
    user_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
