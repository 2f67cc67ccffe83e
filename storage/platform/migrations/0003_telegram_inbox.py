"""telegram: the inbox of updates received and not yet handled

Revision ID: 0003_telegram_inbox
Revises: 0002_telegram_forms
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0003_telegram_inbox"
down_revision: str | Sequence[str] | None = "0002_telegram_forms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_inbox",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload", storage.types.JSONText(), nullable=False),
        sa.Column("received_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("handled_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_telegram_inbox")),
    )
    with op.batch_alter_table("telegram_inbox", schema=None) as batch_op:
        batch_op.create_index("ix_telegram_inbox_handled_at", ["handled_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("telegram_inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_telegram_inbox_handled_at")
    op.drop_table("telegram_inbox")
