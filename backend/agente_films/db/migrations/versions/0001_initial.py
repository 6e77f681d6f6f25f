"""Initial schema: studio sessions, film projects, questions, answers, reasoning, state snapshots,
agent events.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.String(36), primary_key=True)


def _session_id(index: bool = False) -> sa.Column:
    return sa.Column(
        "session_id",
        sa.String(36),
        sa.ForeignKey("studio_sessions.id", ondelete="CASCADE"),
        nullable=False,
        index=index,
    )


def _fk(name: str, target: str, ondelete: str, nullable: bool = True, index: bool = False):
    return sa.Column(
        name, sa.String(36), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index
    )


def upgrade() -> None:
    is_pg = op.get_bind().dialect.name == "postgresql"
    if is_pg:
        # Also in database/init.sql; repeated here so a bare database migrates too.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")

    op.create_table(
        "studio_sessions",
        _id(),
        sa.Column("user_id", sa.String(128), nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("metadata", JSON, nullable=False),
    )
    op.create_index("idx_sessions_created_at", "studio_sessions", [sa.text("created_at DESC")])
    op.create_index("idx_sessions_status", "studio_sessions", ["status"])

    op.create_table(
        "film_projects",
        _id(),
        _session_id(index=True),
        sa.Column("user_id", sa.String(128), nullable=False, index=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("document", sa.String(300)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )

    op.create_table(
        "questions",
        _id(),
        _session_id(),
        _fk("project_id", "film_projects.id", "SET NULL"),
        sa.Column("question_text", sa.Text, nullable=False),
        sa.Column("agent_name", sa.String(100), nullable=False),
        sa.Column("run_status", sa.String(20), nullable=False),
        sa.Column("run_error", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("metadata", JSON, nullable=False),
    )
    op.create_index(
        "idx_questions_session_created", "questions", ["session_id", sa.text("created_at DESC")]
    )
    op.create_index("idx_questions_run_status", "questions", ["run_status"])

    op.create_table(
        "answers",
        _id(),
        _fk("question_id", "questions.id", "CASCADE", nullable=False, index=True),
        _session_id(),
        _fk("project_id", "film_projects.id", "SET NULL"),
        sa.Column("agent_name", sa.String(100), nullable=False),
        sa.Column("answer_text", sa.Text, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("metadata", JSON, nullable=False),
    )
    op.create_index(
        "idx_answers_session_created", "answers", ["session_id", sa.text("created_at DESC")]
    )

    op.create_table(
        "inferential_reasoning",
        _id(),
        _session_id(index=True),
        _fk("question_id", "questions.id", "CASCADE", nullable=False, index=True),
        _fk("answer_id", "answers.id", "SET NULL", index=True),
        sa.Column("agent_name", sa.String(100), nullable=False),
        sa.Column("reasoning_type", sa.String(20), nullable=False),
        sa.Column("reasoning_text", sa.Text, nullable=False),
        sa.Column("tool_calls", JSON),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("metadata", JSON, nullable=False),
    )
    op.create_index("idx_reasoning_agent", "inferential_reasoning", ["agent_name"])

    op.create_table(
        "session_states",
        _id(),
        _session_id(),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("changed_keys", JSON, nullable=False),
        sa.Column("state_value", JSON, nullable=False),
        sa.Column("agent_name", sa.String(100)),
        _fk("question_id", "questions.id", "SET NULL"),
        sa.Column("event_id", sa.String(64)),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("session_id", "version", name="uq_session_states_version"),
    )

    op.create_table(
        "agent_events",
        _id(),
        _session_id(),
        _fk("question_id", "questions.id", "CASCADE", index=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("invocation_id", sa.String(64)),
        sa.Column("agent_name", sa.String(100), nullable=False),
        sa.Column("branch", sa.String(300)),
        sa.Column("event_type", sa.String(30), nullable=False),
        sa.Column("event_data", JSON, nullable=False),
        sa.Column("elapsed_ms", sa.Integer),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("idx_events_agent_type", "agent_events", ["agent_name", "event_type"])
    op.create_index("idx_events_session_created", "agent_events", ["session_id", "created_at"])

    if is_pg:
        # GIN and trigram indexes exist only on PostgreSQL.
        op.execute(
            "CREATE INDEX idx_session_states_jsonb ON session_states "
            "USING GIN (state_value jsonb_path_ops)"
        )
        op.execute(
            "CREATE INDEX idx_events_jsonb ON agent_events USING GIN (event_data jsonb_path_ops)"
        )
        op.execute(
            "CREATE INDEX idx_projects_title_trgm ON film_projects USING GIN (title gin_trgm_ops)"
        )


def downgrade() -> None:
    for table in (
        "agent_events",
        "session_states",
        "inferential_reasoning",
        "answers",
        "questions",
        "film_projects",
        "studio_sessions",
    ):
        op.drop_table(table)
