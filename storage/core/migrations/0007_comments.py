"""discussion: comments on suggestions, and who follows them

Revision ID: 0007_comments
Revises: 0006_audit_moderation
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007_comments"
down_revision: str | Sequence[str] | None = "0006_audit_moderation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=96), nullable=True),
        sa.Column("hidden", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("deleted_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["accounts.id"], name=op.f("fk_comments_author_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["removed_by"], ["accounts.id"], name=op.f("fk_comments_removed_by_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["suggestion_id"],
            ["suggestions.id"],
            name=op.f("fk_comments_suggestion_id_suggestions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    op.create_index("ix_comments_created_at", "comments", ["created_at"])
    op.create_index("ix_comments_origin", "comments", ["origin"], unique=True)
    op.create_index("ix_comments_suggestion", "comments", ["suggestion_id", "id"])
    op.create_table(
        "comment_follows",
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.Column("told_through", sa.Integer(), server_default="0", nullable=False),
        sa.Column("told_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_comment_follows_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["suggestion_id"],
            ["suggestions.id"],
            name=op.f("fk_comment_follows_suggestion_id_suggestions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("suggestion_id", "account_id", name=op.f("pk_comment_follows")),
    )
    op.create_index("ix_comment_follows_account", "comment_follows", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_comment_follows_account", table_name="comment_follows")
    op.drop_table("comment_follows")
    op.drop_index("ix_comments_suggestion", table_name="comments")
    op.drop_index("ix_comments_origin", table_name="comments")
    op.drop_index("ix_comments_created_at", table_name="comments")
    op.drop_table("comments")
