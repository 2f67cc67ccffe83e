"""job leases and retention indexes

A claimed job key carries a lease, so that a claim left by a process that died is taken over;
indexes let old outbox rows, job runs and processed events be deleted in batches.

Revision ID: 0002_core_job_leases
Revises: 0001_core
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0002_core_job_leases"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job_runs") as batch:
        batch.add_column(
            sa.Column("lease_until", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_index("ix_job_runs_finished_at", "job_runs", ["finished_at"])
    op.create_index("ix_outbox_delivered_at", "outbox", ["delivered_at"])
    op.create_index("ix_outbox_failed_at", "outbox", ["failed_at"])
    op.create_index("ix_processed_events_created_at", "processed_events", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_processed_events_created_at", table_name="processed_events")
    op.drop_index("ix_outbox_failed_at", table_name="outbox")
    op.drop_index("ix_outbox_delivered_at", table_name="outbox")
    op.drop_index("ix_job_runs_finished_at", table_name="job_runs")
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_column("lease_until")
