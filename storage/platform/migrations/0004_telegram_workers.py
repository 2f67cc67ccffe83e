"""telegram: several processes on one database (the inbox's worker, shared sending limits)

Revision ID: 0004_telegram_workers
Revises: 0003_telegram_inbox
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types

revision: str = "0004_telegram_workers"
down_revision: str | Sequence[str] | None = "0003_telegram_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("telegram_inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker", sa.Integer(), nullable=True))
    op.create_table(
        "telegram_pace",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column(
            "recent",
            postgresql.ARRAY(sa.Float()).with_variant(storage.types.JSONText(), "sqlite"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_telegram_pace")),
    )


def downgrade() -> None:
    op.drop_table("telegram_pace")
    with op.batch_alter_table("telegram_inbox", schema=None) as batch_op:
        batch_op.drop_column("worker")
