"""platform: discussion threads started from suggestion cards; cards found by subject

Revision ID: 0006_discussion_threads
Revises: 0005_live_messages
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0006_discussion_threads"
down_revision: str | Sequence[str] | None = "0005_live_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discussion_threads",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_discussion_threads_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("platform", "thread_id", name=op.f("pk_discussion_threads")),
    )
    op.create_index(
        "ix_discussion_threads_subject",
        "discussion_threads",
        ["platform", "community_id", "subject"],
        unique=True,
    )
    op.create_index(
        "ix_message_refs_subject", "message_refs", ["platform", "community_id", "subject"]
    )


def downgrade() -> None:
    op.drop_index("ix_message_refs_subject", table_name="message_refs")
    op.drop_index("ix_discussion_threads_subject", table_name="discussion_threads")
    op.drop_table("discussion_threads")
