"""rate limits shared by the processes on one database (unlogged on PostgreSQL)

Revision ID: 0004_rate_limits
Revises: 0003_suggestion_vote_counts
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_rate_limits"
down_revision: str | Sequence[str] | None = "0003_suggestion_vote_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("bucket", sa.String(length=64), nullable=False),
        sa.Column(
            "hits",
            sa.JSON().with_variant(postgresql.ARRAY(sa.Float()), "postgresql"),
            nullable=False,
        ),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("admitted", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "bucket"),
    )
    op.create_index("ix_rate_limits_last_at", "rate_limits", ["last_at"])
    if op.get_bind().dialect.name == "postgresql":
        # Counts of the last minutes: not worth a WAL record and a disk flush per call (an
        # unlogged table is emptied after a server crash, and the limits start again).
        op.execute("ALTER TABLE rate_limits SET UNLOGGED")


def downgrade() -> None:
    op.drop_index("ix_rate_limits_last_at", table_name="rate_limits")
    op.drop_table("rate_limits")
