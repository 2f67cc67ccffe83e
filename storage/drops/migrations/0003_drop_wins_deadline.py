"""drops: the deadline index holds only unconfirmed wins

A partial index, so that PostgreSQL's foreign-key check of a new slot against its win can
only use the primary key (storage/drops/schema.py).

Revision ID: 0003_drop_wins_deadline
Revises: 0002_drop_reminders
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_drop_wins_deadline"
down_revision: str | Sequence[str] | None = "0002_drop_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNCONFIRMED = sa.text("confirmed_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("drop_wins", schema=None) as batch_op:
        batch_op.drop_index("ix_drop_wins_deadline")
        batch_op.create_index(
            "ix_drop_wins_deadline",
            ["drop_id", "confirm_by"],
            unique=False,
            postgresql_where=UNCONFIRMED,
            sqlite_where=UNCONFIRMED,
        )


def downgrade() -> None:
    with op.batch_alter_table("drop_wins", schema=None) as batch_op:
        batch_op.drop_index("ix_drop_wins_deadline")
        batch_op.create_index(
            "ix_drop_wins_deadline", ["drop_id", "confirmed_at", "confirm_by"], unique=False
        )
