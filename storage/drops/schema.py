"""Reservation drops: drops, reservations, wins and their slots, the waiting list, F-codes.

The schema itself makes overselling impossible: every unit handed out is a row of
`drop_slots` whose number is unique within its drop and lies in 1..quota (the quota is carried
into the row through a composite foreign key that cascades on update, so lowering a drop's
quota below a slot in use fails in the database too). One account holds at most one win per
drop, a win requires a reservation, and an account's units are numbered 1..per_account.
"""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from storage.base import metadata
from storage.types import JSONText, UTCDateTime

MODES = ("flash", "lottery")
WIN_SOURCES = ("flash", "lottery", "fcode", "waitlist")

drops = Table(
    "drops",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    Column("created_by", ForeignKey("accounts.id"), nullable=False),
    Column("name", String(80), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("mode", String(8), nullable=False),
    Column("quota", Integer, nullable=False),
    Column("per_account", Integer, nullable=False, server_default="1"),
    Column("waitlist", Integer, nullable=False),
    Column("opens_at", UTCDateTime, nullable=False),
    Column("closes_at", UTCDateTime, nullable=False),
    Column("drop_at", UTCDateTime, nullable=False),
    Column("confirm_seconds", Integer, nullable=False),
    # Eligibility: any of these platform roles, days in the community, participation.
    Column("roles", JSONText),
    Column("min_days", Integer, nullable=False, server_default="0"),
    Column("min_score", Integer, nullable=False, server_default="0"),
    Column("tiers", JSONText),
    # Verifiable draw: sha256(seed) is public from the start; the seed once drawn.
    Column("seed", String(64), nullable=False),
    Column("commitment", String(64), nullable=False),
    Column("entrants_hash", String(64)),
    Column("entrants_count", Integer),
    Column("drawn_slots", Integer),
    Column("drawn_at", UTCDateTime),
    # Phases.
    Column("cancelled_at", UTCDateTime),
    Column("opened_at", UTCDateTime),
    Column("started_at", UTCDateTime),
    Column("sold_out_at", UTCDateTime),
    Column("attempts", Integer, nullable=False, server_default="0"),
    # The live status message: when it was last posted and what it said.
    Column("status_at", UTCDateTime),
    Column("status_sig", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("mode IN ('flash', 'lottery')", name="mode_known"),
    CheckConstraint("quota >= 1", name="quota_positive"),
    CheckConstraint("per_account >= 1", name="per_account_positive"),
    CheckConstraint("waitlist >= 0", name="waitlist_not_negative"),
    CheckConstraint("confirm_seconds > 0", name="confirm_positive"),
    CheckConstraint("opens_at < closes_at AND closes_at <= drop_at", name="phases_in_order"),
    UniqueConstraint("id", "quota", "per_account", name="uq_drops_id_quota_per_account"),
    Index("ix_drops_community", "community_id"),
)

reservations = Table(
    "drop_reservations",
    metadata,
    Column("drop_id", ForeignKey("drops.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("units", Integer, nullable=False, server_default="1"),
    Column("reserved_at", UTCDateTime, nullable=False),
    Column("via_fcode", Boolean, nullable=False, server_default="0"),
    # False: the reserver turned the reminder before drop time off (/drop reminder DROP off).
    Column("remind", Boolean, nullable=False, server_default="1"),
    PrimaryKeyConstraint("drop_id", "account_id", name="pk_drop_reservations"),
    CheckConstraint("units >= 1", name="units_positive"),
    Index("ix_drop_reservations_account", "account_id"),
)

wins = Table(
    "drop_wins",
    metadata,
    Column("drop_id", ForeignKey("drops.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", Integer, nullable=False),
    Column("code", String(24), nullable=False),
    Column("units", Integer, nullable=False),
    Column("source", String(8), nullable=False),
    Column("won_at", UTCDateTime, nullable=False),
    Column("confirm_by", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime),
    PrimaryKeyConstraint("drop_id", "account_id", name="pk_drop_wins"),
    UniqueConstraint("code", name="uq_drop_wins_code"),
    CheckConstraint("units >= 1", name="units_positive"),
    CheckConstraint("source IN ('flash', 'lottery', 'fcode', 'waitlist')", name="source_known"),
    # No win without a reservation; moving a reservation (linked accounts) moves its win.
    ForeignKeyConstraint(
        ["drop_id", "account_id"],
        ["drop_reservations.drop_id", "drop_reservations.account_id"],
        name="fk_drop_wins_reservation",
        onupdate="CASCADE",
    ),
    # The deadline sweep reads the unconfirmed wins of a drop by deadline. Partial on purpose:
    # PostgreSQL checks each new `drop_slots` row against this table, and while the table is
    # new (a first drop, no statistics yet) it planned that check on an index that began with
    # `drop_id` alone, reading every win of the drop for each slot (a burst's batches grew from
    # 10 to 850 ms). A partial index cannot serve that check: it uses the primary key.
    Index(
        "ix_drop_wins_deadline",
        "drop_id",
        "confirm_by",
        postgresql_where=text("confirmed_at IS NULL"),
        sqlite_where=text("confirmed_at IS NULL"),
    ),
)

slots = Table(
    "drop_slots",
    metadata,
    Column("drop_id", Integer, nullable=False),
    Column("slot", Integer, nullable=False),
    Column("quota", Integer, nullable=False),
    Column("per_account", Integer, nullable=False),
    Column("account_id", Integer, nullable=False),
    Column("unit", Integer, nullable=False),
    PrimaryKeyConstraint("drop_id", "slot", name="pk_drop_slots"),
    UniqueConstraint("drop_id", "account_id", "unit", name="uq_drop_slots_account_unit"),
    CheckConstraint("slot >= 1 AND slot <= quota", name="slot_within_quota"),
    CheckConstraint("unit >= 1 AND unit <= per_account", name="unit_within_limit"),
    ForeignKeyConstraint(
        ["drop_id", "quota", "per_account"],
        ["drops.id", "drops.quota", "drops.per_account"],
        name="fk_drop_slots_drop_quota",
        ondelete="CASCADE",
        onupdate="CASCADE",
    ),
    ForeignKeyConstraint(
        ["drop_id", "account_id"],
        ["drop_wins.drop_id", "drop_wins.account_id"],
        name="fk_drop_slots_win",
        ondelete="CASCADE",
        onupdate="CASCADE",
    ),
)

waitlist = Table(
    "drop_waitlist",
    metadata,
    Column("drop_id", Integer, nullable=False),
    Column("position", Integer, nullable=False),
    Column("account_id", Integer, nullable=False),
    Column("units", Integer, nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
    Column("promoted_at", UTCDateTime),
    PrimaryKeyConstraint("drop_id", "position", name="pk_drop_waitlist"),
    UniqueConstraint("drop_id", "account_id", name="uq_drop_waitlist_account"),
    CheckConstraint("position >= 1", name="position_positive"),
    ForeignKeyConstraint(
        ["drop_id", "account_id"],
        ["drop_reservations.drop_id", "drop_reservations.account_id"],
        name="fk_drop_waitlist_reservation",
        ondelete="CASCADE",
        onupdate="CASCADE",
    ),
)

fcodes = Table(
    "drop_fcodes",
    metadata,
    Column("code", String(24), primary_key=True),
    Column("drop_id", ForeignKey("drops.id", ondelete="CASCADE"), nullable=False),
    # The member the code was given to (None: handed out by hand, anyone may use it).
    Column("account_id", ForeignKey("accounts.id", ondelete="SET NULL")),
    Column("issued_by", ForeignKey("accounts.id"), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("used_by", ForeignKey("accounts.id", ondelete="SET NULL")),
    Column("used_at", UTCDateTime),
    UniqueConstraint("drop_id", "used_by", name="uq_drop_fcodes_drop_used_by"),
    Index("ix_drop_fcodes_drop", "drop_id"),
)

lapses = Table(
    "drop_lapses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("drop_id", ForeignKey("drops.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", Integer, nullable=False),
    Column("code", String(24), nullable=False),
    Column("units", Integer, nullable=False),
    Column("reason", String(8), nullable=False),  # deadline | merge
    Column("lapsed_at", UTCDateTime, nullable=False),
    Index("ix_drop_lapses_drop", "drop_id"),
)
