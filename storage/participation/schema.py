"""Participation: the points ledger derived from contributions, sync state, tiers, account aliases.

The ledger holds one row per credited contribution, keyed by (community, account, kind, ref), so
syncing the same contribution twice is harmless. A row's `points` are what it earned under the
rules in force when it was credited; `counted` is False for contributions beyond the daily cap,
which then earn nothing. Everything here can be rebuilt from the contribution sources.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from storage.base import metadata
from storage.suggestions.schema import votes
from storage.types import UTCDateTime

# The incremental sync asks the suggestion loop for the votes cast since its last run; this index
# on the suggestion loop's table serves that question (and nothing of the loop's own needs it).
Index("ix_votes_created_at", votes.c.created_at)

participation_ledger = Table(
    "participation_ledger",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    # The contribution's day in the community's time zone (the daily cap counts per day).
    Column("day", Date, nullable=False),
    Column("counted", Boolean, nullable=False),
    Column("points", Integer, nullable=False),
    CheckConstraint("points >= 0", name="points_not_negative"),
    CheckConstraint("counted OR points = 0", name="uncounted_earns_nothing"),
    UniqueConstraint(
        "community_id", "account_id", "kind", "ref", name="uq_participation_ledger_key"
    ),
    Index("ix_participation_ledger_community_at", "community_id", "at"),
    # Covers the per-member sums (leaderboards, profiles) without touching the table.
    Index(
        "ix_participation_ledger_community_account",
        "community_id",
        "account_id",
        "points",
        "at",
    ),
)

# Per community: up to when contributions were synced, and when the last full reconciliation ran.
participation_state = Table(
    "participation_state",
    metadata,
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True),
    Column("synced_until", UTCDateTime),
    Column("reconciled_at", UTCDateTime),
)

participation_tiers = Table(
    "participation_tiers",
    metadata,
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(40), primary_key=True),
    Column("threshold", Integer, nullable=False),
    # The platform role that goes with the tier (Discord); None for no role.
    Column("role", String(100)),
    CheckConstraint("threshold >= 1", name="threshold_positive"),
    UniqueConstraint("community_id", "threshold", name="uq_participation_tiers_threshold"),
)

# The tier each member was last given, and the platform role that came with it (so the role can
# be taken back even after the owner renamed or removed the tier).
participation_tier_members = Table(
    "participation_tier_members",
    metadata,
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("tier", String(40), nullable=False),
    Column("role", String(100)),
    Column("since", UTCDateTime, nullable=False),
)

# Accounts linked into another: contributions still reported under the old account count for
# the account it was merged into.
participation_aliases = Table(
    "participation_aliases",
    metadata,
    Column("from_account", Integer, primary_key=True),
    Column("to_account", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("from_account <> to_account", name="not_self"),
)

# Points an owner granted (positive) or deducted (negative) by hand, with the reason. They are
# not contributions: a recompute or reconciliation of the ledger keeps them, and every total
# adds them to the ledger's points.
MAX_GRANT = 100_000
participation_grants = Table(
    "participation_grants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("points", Integer, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("granted_by", ForeignKey("accounts.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    CheckConstraint(
        f"points <> 0 AND points BETWEEN -{MAX_GRANT} AND {MAX_GRANT}", name="points_in_range"
    ),
    Index("ix_participation_grants_community_account", "community_id", "account_id", "at"),
)
