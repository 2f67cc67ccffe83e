"""Muted members, each community's filtered words, and the review queue.

The tables are created by the core migration branch (`0006_audit_moderation`), beside the
suggestion tables that the queue refers to.
"""

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from storage.base import metadata
from storage.types import UTCDateTime

QUEUE_KINDS = ("post", "report")
QUEUE_STATES = ("pending", "approved", "rejected", "dismissed", "hidden")

mutes = Table(
    "mutes",
    metadata,
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("until", UTCDateTime),  # None: until lifted
    Column("reason", Text, nullable=False, server_default=""),
    Column("muted_by", ForeignKey("accounts.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("community_id", "account_id", name="pk_mutes"),
)

filter_words = Table(
    "filter_words",
    metadata,
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    Column("word", String(64), nullable=False),  # case-folded
    Column("added_by", ForeignKey("accounts.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("community_id", "word", name="pk_filter_words"),
)

# A post held before it was published (`kind` post: title, details, category; `draft_id` when
# it came from a kept draft, so it is held once), or a fan's report of a suggestion (`kind`
# report: `suggestion_id`, `note` the reason). `suggestion_id` of an approved post is the
# suggestion it became.
review_queue = Table(
    "review_queue",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("state", String(12), nullable=False, server_default="pending"),
    Column("author_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(120), nullable=False, server_default=""),
    Column("details", Text, nullable=False, server_default=""),
    Column("category", String(40)),
    Column("held_for", String(64), nullable=False, server_default=""),  # "review" or "word:…"
    Column("draft_id", ForeignKey("suggestion_drafts.id", ondelete="SET NULL")),
    Column("suggestion_id", ForeignKey("suggestions.id", ondelete="CASCADE")),
    Column("note", Text, nullable=False, server_default=""),
    Column("decided_by", ForeignKey("accounts.id", ondelete="SET NULL")),
    Column("decided_at", UTCDateTime),
    Column("decision_note", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint(
        "kind IN (" + ", ".join(f"'{k}'" for k in QUEUE_KINDS) + ")", name="review_kind_known"
    ),
    CheckConstraint(
        "state IN (" + ", ".join(f"'{s}'" for s in QUEUE_STATES) + ")", name="review_state_known"
    ),
    UniqueConstraint("draft_id", name="uq_review_queue_draft"),
    UniqueConstraint("kind", "suggestion_id", "author_id", name="uq_review_queue_report"),
    Index("ix_review_queue_pending", "community_id", "state", "id"),
)
