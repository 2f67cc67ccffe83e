"""suggestions: the vote count kept as a column

Revision ID: 0003_suggestion_vote_counts
Revises: 0002_core_job_leases
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_suggestion_vote_counts"
down_revision: str | Sequence[str] | None = "0002_core_job_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("suggestions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("votes", sa.Integer(), server_default="0", nullable=False))
    # Backfill: the votes each suggestion has now.
    op.execute(
        "UPDATE suggestions SET votes = "
        "(SELECT count(*) FROM votes WHERE votes.suggestion_id = suggestions.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("suggestions", schema=None) as batch_op:
        batch_op.drop_column("votes")
