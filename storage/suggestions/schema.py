"""Suggestions, one vote per account, merges (so they can be undone exactly), drafts, history."""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from storage.base import metadata
from storage.types import UTCDateTime

STATUSES = (
    "new",
    "under_review",
    "planned",
    "in_progress",
    "shipped",
    "declined",
    "duplicate",
)

suggestions = Table(
    "suggestions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    Column("author_id", ForeignKey("accounts.id"), nullable=False),
    Column("title", String(120), nullable=False),
    Column("details", Text, nullable=False, server_default=""),
    Column("category", String(40)),
    Column("status", String(16), nullable=False, server_default="new"),
    Column("status_note", Text),
    Column("hidden", Boolean, nullable=False, server_default="0"),
    Column("merged_into", ForeignKey("suggestions.id")),
    # How many rows of `votes` are this suggestion's: every statement that adds or removes votes
    # moves it in the same transaction, so reads never count the votes.
    Column("votes", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Corrections: the last edit of the title or details; a soft delete (the row stays, hidden
    # too, until an admin restores it); the team's official response; posted without a name.
    Column("edited_at", UTCDateTime),
    Column("deleted_at", UTCDateTime),
    Column("deleted_by", ForeignKey("accounts.id")),
    Column("response", Text),
    Column("response_by", ForeignKey("accounts.id")),
    Column("response_at", UTCDateTime),
    Column("anonymous", Boolean, nullable=False, server_default="0"),
    CheckConstraint(
        "status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")", name="status_known"
    ),
    Index("ix_suggestions_community_status", "community_id", "status"),
)

merges = Table(
    "merges",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("duplicate_id", ForeignKey("suggestions.id", ondelete="CASCADE"), nullable=False),
    Column("original_id", ForeignKey("suggestions.id", ondelete="CASCADE"), nullable=False),
    Column("previous_status", String(16), nullable=False),
    Column("merged_by", ForeignKey("accounts.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("undone_at", UTCDateTime),
    CheckConstraint("duplicate_id <> original_id", name="not_self"),
)

votes = Table(
    "votes",
    metadata,
    Column("suggestion_id", ForeignKey("suggestions.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Set when the vote was carried over by a merge, so /unmerge takes back exactly those.
    Column("merge_id", ForeignKey("merges.id", ondelete="CASCADE")),
    Index("ix_votes_account", "account_id"),
)

drafts = Table(
    "suggestion_drafts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(120), nullable=False),
    Column("details", Text, nullable=False, server_default=""),
    Column("category", String(40)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("posted_id", ForeignKey("suggestions.id", ondelete="SET NULL")),
)

suggestion_events = Table(
    "suggestion_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("suggestion_id", ForeignKey("suggestions.id", ondelete="CASCADE"), nullable=False),
    Column("actor_id", ForeignKey("accounts.id"), nullable=False),
    Column(
        "kind", String(16), nullable=False
    ),  # created | status | merged | unmerged | hidden | shown
    # | edited | deleted | restored | response
    Column("old", String(16)),
    Column("new", String(16)),
    Column("note", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_suggestion_events_suggestion", "suggestion_id"),
)

# The categories a community's owners declared. A suggestion keeps the category's name (as
# declared) in `suggestions.category`; `name_key` is the name folded for comparison, so that
# "UI" and "ui" are one category.
categories = Table(
    "suggestion_categories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(40), nullable=False),
    Column("name_key", String(80), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("community_id", "name_key", name="uq_suggestion_categories_name"),
)

# A suggestion's sentence embedding (the `semantic` extra), per model: float16, little-endian.
# `text_hash` names the text it was made from, so an edited suggestion is embedded again.
suggestion_vectors = Table(
    "suggestion_vectors",
    metadata,
    Column("suggestion_id", ForeignKey("suggestions.id", ondelete="CASCADE"), primary_key=True),
    Column("model", String(80), primary_key=True),
    Column("text_hash", String(16), nullable=False),
    Column("vector", LargeBinary, nullable=False),
)
