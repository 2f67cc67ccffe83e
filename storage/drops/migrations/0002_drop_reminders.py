"""drops: reservers may turn the reminder before drop time off

Revision ID: 0002_drop_reminders
Revises: 0001_drops
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_drop_reminders"
down_revision: str | Sequence[str] | None = "0001_drops"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("drop_reservations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("remind", sa.Boolean(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("drop_reservations", schema=None) as batch_op:
        batch_op.drop_column("remind")
