"""The weekly loop: releases and their items, four-grid reports, ballots, anticipation picks,
and who gets the admin digest."""

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
)

from storage.base import metadata
from storage.types import JSONText, UTCDateTime

releases = Table(
    "releases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    Column("version", String(64), nullable=False),
    Column("released_on", Date, nullable=False),
    Column("created_by", ForeignKey("accounts.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Set once the changelog is posted and the voters are told (work that is retried until done).
    Column("announced_at", UTCDateTime),
    # Set when an admin deleted the release (its version is then renamed, so that the name can
    # be used again); the row stays, so that no id, and no key of work done for it, is reused.
    Column("deleted_at", UTCDateTime),
    UniqueConstraint("community_id", "version", name="uq_releases_community_version"),
    Index("ix_releases_community_created", "community_id", "created_at"),
)

release_items = Table(
    "release_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("release_id", ForeignKey("releases.id", ondelete="CASCADE"), nullable=False),
    Column("position", SmallInteger, nullable=False),
    # The suggestion this item shipped; NULL for a free-text feature.
    Column("suggestion_id", ForeignKey("suggestions.id", ondelete="SET NULL")),
    # The title as shipped (a suggestion's title at release time, or the feature's text).
    Column("title", String(200), nullable=False),
    UniqueConstraint("release_id", "position", name="uq_release_items_release_position"),
    CheckConstraint("position >= 0", name="position_positive"),
)

# A report takes ballots while open (until `closes_at`); closing it is final. The weekly feature
# names these `cogs.weekly.fourgrid.ReportStatus`.
REPORT_OPEN = "open"
REPORT_CLOSED = "closed"
REPORT_STATUSES = (REPORT_OPEN, REPORT_CLOSED)

fourgrid_reports = Table(
    "fourgrid_reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    # One report per release, ever.
    Column(
        "release_id",
        ForeignKey("releases.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("period", String(16), nullable=False),  # ISO week in the community's time zone
    Column("status", String(8), nullable=False, server_default=REPORT_OPEN),
    # The community's own grid labels when it set some ("a|b|c|d"); NULL: localized defaults.
    Column("labels", JSONText),
    Column("opened_by", ForeignKey("accounts.id")),  # NULL: opened by the schedule
    Column("opened_at", UTCDateTime, nullable=False),
    Column("closes_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("results_posted_at", UTCDateTime),
    Column("award_item_id", ForeignKey("release_items.id", ondelete="SET NULL")),
    # How many times an admin reopened it after it closed; its results are posted once per round.
    Column("reopened", SmallInteger, nullable=False, server_default="0"),
    CheckConstraint(
        "status IN (" + ", ".join(f"'{s}'" for s in REPORT_STATUSES) + ")", name="status_known"
    ),
    CheckConstraint("closes_at > opened_at", name="closes_after_open"),
    Index("ix_fourgrid_reports_community_status", "community_id", "status"),
)

GRIDS = 4  # love it, fine, not good enough, haven't tried

# One ballot per account per item, changeable until the report closes.
fourgrid_ballots = Table(
    "fourgrid_ballots",
    metadata,
    Column("item_id", ForeignKey("release_items.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("report_id", ForeignKey("fourgrid_reports.id", ondelete="CASCADE"), nullable=False),
    Column("grid", SmallInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint(f"grid >= 0 AND grid < {GRIDS}", name="grid_known"),
    Index("ix_fourgrid_ballots_report_account", "report_id", "account_id"),
    Index("ix_fourgrid_ballots_report_item_grid", "report_id", "item_id", "grid"),
)

# The one open suggestion each fan most looks forward to, per report.
fourgrid_anticipations = Table(
    "fourgrid_anticipations",
    metadata,
    Column("report_id", ForeignKey("fourgrid_reports.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("suggestion_id", ForeignKey("suggestions.id", ondelete="CASCADE"), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Admins who asked for the daily digest (/digest on).
digest_subscribers = Table(
    "digest_subscribers",
    metadata,
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)
