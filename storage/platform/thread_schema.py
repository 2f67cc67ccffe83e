"""Discussion threads on platforms that have them (Discord): one per suggestion card, started
from the card's message on the first comment."""

from sqlalchemy import Column, ForeignKey, Index, String, Table

from storage.base import metadata
from storage.platform.schema import message_refs
from storage.types import UTCDateTime

discussion_threads = Table(
    "discussion_threads",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("thread_id", String(64), primary_key=True),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    Column("subject", String(64), nullable=False),  # what the card is about ("sg:12")
    Column("parent_id", String(64), nullable=False),  # the channel the card was posted in
    Column("message_id", String(64), nullable=False),  # the card the thread was started from
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_discussion_threads_subject", "platform", "community_id", "subject", unique=True),
)

# Finding a subject's cards (to start its thread from one): message_refs by subject.
Index(
    "ix_message_refs_subject",
    message_refs.c.platform,
    message_refs.c.community_id,
    message_refs.c.subject,
)
