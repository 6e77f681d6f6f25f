"""Branches and edits: a session can be a branch of another (its parent and the point it branched
at); questions gain the kinds "edit" and "undo" (String(10) already holds them).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("studio_sessions") as batch:
        # SET NULL: deleting a parent keeps its branches (they hold copies, not references).
        batch.add_column(sa.Column("parent_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("branch_point", sa.JSON().with_variant(JSONB(), "postgresql")))
        batch.create_foreign_key(
            "fk_studio_sessions_parent", "studio_sessions", ["parent_id"], ["id"], ondelete="SET NULL"
        )
    op.create_index("idx_sessions_parent", "studio_sessions", ["parent_id"])


def downgrade() -> None:
    op.drop_index("idx_sessions_parent", table_name="studio_sessions")
    with op.batch_alter_table("studio_sessions") as batch:
        batch.drop_constraint("fk_studio_sessions_parent", type_="foreignkey")
        batch.drop_column("branch_point")
        batch.drop_column("parent_id")
