"""suggestions: edits, soft deletes, official responses, anonymous posts; the bot's messages
found by subject (to edit a card)

Revision ID: 0008_corrections
Revises: 0007_comments
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008_corrections"
down_revision: str | Sequence[str] | None = "0007_comments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("suggestions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("edited_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("deleted_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("deleted_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("response", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("response_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("response_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("anonymous", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.create_foreign_key(
            op.f("fk_suggestions_deleted_by_accounts"), "accounts", ["deleted_by"], ["id"]
        )
        batch_op.create_foreign_key(
            op.f("fk_suggestions_response_by_accounts"), "accounts", ["response_by"], ["id"]
        )
    op.create_index(
        "ix_message_refs_subject", "message_refs", ["platform", "subject"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_message_refs_subject", table_name="message_refs")
    with op.batch_alter_table("suggestions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_suggestions_response_by_accounts"), type_="foreignkey")
        batch_op.drop_constraint(op.f("fk_suggestions_deleted_by_accounts"), type_="foreignkey")
        for name in (
            "anonymous",
            "response_at",
            "response_by",
            "response",
            "deleted_by",
            "deleted_at",
            "edited_at",
        ):
            batch_op.drop_column(name)
