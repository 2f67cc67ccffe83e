"""weekly: deleted releases, reopened four-grid reports

Revision ID: 0002_weekly_corrections
Revises: 0001_weekly
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0002_weekly_corrections"
down_revision: str | Sequence[str] | None = "0001_weekly"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deleted_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("fourgrid_reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reopened", sa.SmallInteger(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("fourgrid_reports", schema=None) as batch_op:
        batch_op.drop_column("reopened")
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
