"""Accounts, platform identities, communities, their spaces and settings, the outbox."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY

from storage.base import metadata
from storage.types import JSONText, UTCDateTime

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("locale", String(16)),
    Column("notify", Boolean, nullable=False, server_default="1"),
)

identities = Table(
    "identities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("platform_user_id", String(64), nullable=False),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("display_name", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("platform", "platform_user_id", name="uq_identities_platform_user"),
)

communities = Table(
    "communities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

spaces = Table(
    "spaces",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("space_id", String(64), nullable=False),
    Column("name", String(128), nullable=False, server_default=""),
    # Where announcements go on this platform (a channel id); the space itself when empty.
    Column("announce_channel", String(64)),
    UniqueConstraint("platform", "space_id", name="uq_spaces_platform_space"),
)

members = Table(
    "members",
    metadata,
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("joined_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
)

community_settings = Table(
    "community_settings",
    metadata,
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("value", JSONText, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("kind", String(16), nullable=False),  # channel | member
    Column("target", String(64), nullable=False),  # channel id or platform user id
    Column("account_id", ForeignKey("accounts.id", ondelete="SET NULL")),
    Column("payload", JSONText, nullable=False),
    Column("dedup_key", String(128), unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("delivered_at", UTCDateTime),
    Column("failed_at", UTCDateTime),
    Column("last_error", Text),
    Index("ix_outbox_due", "platform", "delivered_at", "next_attempt_at"),
    # Retention: old delivered and given-up rows are deleted (bot.core.retention).
    Index("ix_outbox_delivered_at", "delivered_at"),
    Index("ix_outbox_failed_at", "failed_at"),
)

# One-time codes: `link` (bind another platform's identity to an account) and `join` (bind another
# platform space to an existing community).
one_time_codes = Table(
    "one_time_codes",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE")),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
)

# Scheduled work that ran, keyed by its period ("fourgrid:3:2026-W48"): exactly once, everywhere.
# An unfinished key is held by `holder` until `lease_until` (renewed while the work runs); a
# claim whose lease ran out was left by a process that died, and another one takes it over.
job_runs = Table(
    "job_runs",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("lease_until", UTCDateTime),
    Index("ix_job_runs_finished_at", "finished_at"),
)

# Leases: which process runs the scheduler when several share one database.
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# Per-member rate limits shared by the processes on one PostgreSQL: the recent calls of one
# (account, bucket), as seconds since the epoch, within the bucket's window of `calls` per
# `seconds` (storage/core/rate_limits.py). Not used on SQLite, where one process counts in
# memory.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("account_id", BigInteger, primary_key=True),
    Column("bucket", String(64), primary_key=True),
    Column("hits", JSON().with_variant(ARRAY(Float), "postgresql"), nullable=False),
    Column("calls", Integer, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("admitted", Integer, nullable=False),
    Column("last_at", Float, nullable=False),
    Index("ix_rate_limits_last_at", "last_at"),
)

# What admins and owners did: one row per admin or owner command or button that succeeded,
# recorded by the dispatcher (bot/core/audit.py), so commands added later are audited too.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    Column("actor_id", ForeignKey("accounts.id", ondelete="SET NULL")),
    Column("actor_name", String(128), nullable=False),
    Column("role", String(8), nullable=False),  # admin | owner
    Column("platform", String(16), nullable=False),
    Column("kind", String(8), nullable=False),  # command | button
    Column("name", String(64), nullable=False),  # "status", "drop edit"; a button's prefix
    Column("args", JSONText, nullable=False),  # [[name, value], …] as given; a button's action
    Column("target_id", ForeignKey("accounts.id", ondelete="SET NULL")),  # the member acted on
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_audit_log_community", "community_id", "id"),
    Index("ix_audit_log_actor", "community_id", "actor_id"),
    Index("ix_audit_log_target", "community_id", "target_id"),
)
