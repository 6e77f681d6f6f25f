"""Producer's notes: a question is a message (it starts a run) or a note (said to a running run),
and a session's title can be the person's own.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("questions") as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="message"))
        # pending | taken | addressed | not_addressed, for notes only
        batch.add_column(sa.Column("note_status", sa.String(20)))
    op.create_index("idx_questions_session_note", "questions", ["session_id", "note_status"])
    with op.batch_alter_table("studio_sessions") as batch:
        batch.add_column(sa.Column("title_set_by_user", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("studio_sessions") as batch:
        batch.drop_column("title_set_by_user")
    op.drop_index("idx_questions_session_note", table_name="questions")
    with op.batch_alter_table("questions") as batch:
        batch.drop_column("note_status")
        batch.drop_column("kind")
