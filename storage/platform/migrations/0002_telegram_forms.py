"""telegram: forms in progress

Revision ID: 0002_telegram_forms
Revises: 0001_telegram
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0002_telegram_forms"
down_revision: str | Sequence[str] | None = "0001_telegram"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_forms",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("command", sa.String(length=64), nullable=False),
        sa.Column("answers", storage.types.JSONText(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_telegram_forms")),
    )
    with op.batch_alter_table("telegram_forms", schema=None) as batch_op:
        batch_op.create_index("ix_telegram_forms_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("telegram_forms", schema=None) as batch_op:
        batch_op.drop_index("ix_telegram_forms_expires_at")
    op.drop_table("telegram_forms")
