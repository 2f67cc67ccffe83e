"""participation: points granted or deducted by hand

Revision ID: 0002_participation_corrections
Revises: 0001_participation
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0002_participation_corrections"
down_revision: str | Sequence[str] | None = "0001_participation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "participation_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("granted_by", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "points <> 0 AND points BETWEEN -100000 AND 100000",
            name=op.f("ck_participation_grants_points_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_participation_grants_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_participation_grants_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"],
            ["accounts.id"],
            name=op.f("fk_participation_grants_granted_by_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_grants")),
    )
    op.create_index(
        "ix_participation_grants_community_account",
        "participation_grants",
        ["community_id", "account_id", "at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_participation_grants_community_account", table_name="participation_grants")
    op.drop_table("participation_grants")
