"""Discussion of a suggestion: its comments, and who follows them (and how far each follower
has been told)."""

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from storage.base import metadata
from storage.types import UTCDateTime

#: The longest comment, in characters (Discord's 2 000 leave room for the author's name).
COMMENT_MAX = 1000

comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("suggestion_id", ForeignKey("suggestions.id", ondelete="CASCADE"), nullable=False),
    Column("author_id", ForeignKey("accounts.id"), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Where it was written ("discord", "telegram", "console"), and the platform message it came
    # from when it was a message (a reply, a message in a thread): a redelivered message adds
    # no second comment.
    Column("platform", String(16), nullable=False),
    Column("origin", String(96)),
    # Hidden by an admin, or deleted by its author: kept, never shown.
    Column("hidden", Boolean, nullable=False, server_default="0"),
    Column("deleted_at", UTCDateTime),
    Column("removed_by", ForeignKey("accounts.id")),
    Index("ix_comments_suggestion", "suggestion_id", "id"),
    Index("ix_comments_origin", "origin", unique=True),
    Index("ix_comments_created_at", "created_at"),  # the followers' tick reads recent ones
)

# One row per member who follows (or explicitly stopped following) a suggestion's comments.
# The author follows without a row until they say otherwise; `told_through` is the last comment
# the member was told about, `told_at` when, so a busy discussion is summed up, not streamed.
comment_follows = Table(
    "comment_follows",
    metadata,
    Column("suggestion_id", ForeignKey("suggestions.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("following", Boolean, nullable=False),
    Column("told_through", Integer, nullable=False, server_default="0"),
    Column("told_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_comment_follows_account", "account_id"),
)
