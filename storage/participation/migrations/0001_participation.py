"""participation: points ledger, sync state, tiers, account aliases

Revision ID: 0001_participation
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0001_participation"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("participation",)
depends_on: str | Sequence[str] | None = "0001_core"


def upgrade() -> None:
    op.create_table(
        "participation_ledger",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.CheckConstraint("points >= 0", name=op.f("ck_participation_ledger_points_not_negative")),
        sa.CheckConstraint(
            "counted OR points = 0", name=op.f("ck_participation_ledger_uncounted_earns_nothing")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_participation_ledger_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_participation_ledger_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_ledger")),
        sa.UniqueConstraint(
            "community_id", "account_id", "kind", "ref", name="uq_participation_ledger_key"
        ),
    )
    with op.batch_alter_table("participation_ledger", schema=None) as batch_op:
        batch_op.create_index(
            "ix_participation_ledger_community_at", ["community_id", "at"], unique=False
        )
        batch_op.create_index(
            "ix_participation_ledger_community_account",
            ["community_id", "account_id", "points", "at"],
            unique=False,
        )

    op.create_index("ix_votes_created_at", "votes", ["created_at"], unique=False)

    op.create_table(
        "participation_state",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("synced_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reconciled_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_participation_state_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_participation_state")),
    )
    op.create_table(
        "participation_tiers",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "threshold >= 1", name=op.f("ck_participation_tiers_threshold_positive")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_participation_tiers_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("community_id", "name", name=op.f("pk_participation_tiers")),
        sa.UniqueConstraint("community_id", "threshold", name="uq_participation_tiers_threshold"),
    )
    op.create_table(
        "participation_tier_members",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=True),
        sa.Column("since", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_participation_tier_members_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_participation_tier_members_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "community_id", "account_id", name=op.f("pk_participation_tier_members")
        ),
    )
    op.create_table(
        "participation_aliases",
        sa.Column("from_account", sa.Integer(), nullable=False),
        sa.Column("to_account", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "from_account <> to_account", name=op.f("ck_participation_aliases_not_self")
        ),
        sa.ForeignKeyConstraint(
            ["to_account"],
            ["accounts.id"],
            name=op.f("fk_participation_aliases_to_account_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("from_account", name=op.f("pk_participation_aliases")),
    )


def downgrade() -> None:
    op.drop_table("participation_aliases")
    op.drop_table("participation_tier_members")
    op.drop_table("participation_tiers")
    op.drop_table("participation_state")
    with op.batch_alter_table("participation_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_participation_ledger_community_account")
        batch_op.drop_index("ix_participation_ledger_community_at")

    op.drop_table("participation_ledger")
    op.drop_index("ix_votes_created_at", table_name="votes")
