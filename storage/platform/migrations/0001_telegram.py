"""telegram

Revision ID: 0001_telegram
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0001_telegram"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("telegram",)
depends_on: str | Sequence[str] | None = "0001_core"


def upgrade() -> None:
    op.create_table(
        "telegram_homes",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("chat_title", sa.String(length=128), server_default="", nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_telegram_homes")),
    )


def downgrade() -> None:
    op.drop_table("telegram_homes")
