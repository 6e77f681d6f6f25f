"""Accounts and sharing: users, browser sign-ins, personal API tokens, share links; sessions gain
archived_at for retention.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_tz = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("username", sa.String(128), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("oidc_issuer", sa.String(300)),
        sa.Column("oidc_subject", sa.String(255)),
        sa.Column("created_at", _tz, nullable=False),
        sa.UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_users_oidc"),
    )
    op.create_table(
        "sign_ins",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", _tz, nullable=False),
        sa.Column("expires_at", _tz, nullable=False),
    )
    op.create_index("ix_sign_ins_user_id", "sign_ins", ["user_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", _tz, nullable=False),
        sa.Column("last_used_at", _tz),
        sa.Column("expires_at", _tz),
        sa.Column("revoked_at", _tz),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "share_links",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "session_id", sa.String(36), sa.ForeignKey("studio_sessions.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("created_at", _tz, nullable=False),
        sa.Column("expires_at", _tz, nullable=False),
        sa.Column("revoked_at", _tz),
    )
    op.create_index("ix_share_links_session_id", "share_links", ["session_id"])
    with op.batch_alter_table("studio_sessions") as batch:
        batch.add_column(sa.Column("archived_at", _tz, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("studio_sessions") as batch:
        batch.drop_column("archived_at")
    op.drop_index("ix_share_links_session_id", table_name="share_links")
    op.drop_table("share_links")
    op.drop_index("ix_api_tokens_user_id", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_index("ix_sign_ins_user_id", table_name="sign_ins")
    op.drop_table("sign_ins")
    op.drop_table("users")
