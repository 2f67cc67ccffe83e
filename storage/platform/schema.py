"""Chat-platform tables: which bot message is about what (so replies and buttons route after a
restart), which platform events were already handled, and on Telegram which group a member's
private chat speaks for, the form a member is filling in there, and the updates received but
not yet handled."""

from sqlalchemy import BigInteger, Column, Float, ForeignKey, Index, Integer, String, Table
from sqlalchemy.dialects import postgresql

from storage.base import metadata
from storage.types import JSONText, UTCDateTime

# A private chat has no community of its own: it serves the community of the member's "home"
# group, the group where they last used the bot (or the one they opened the chat from).
telegram_homes = Table(
    "telegram_homes",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("chat_id", String(64), nullable=False),
    Column("chat_title", String(128), nullable=False, server_default=""),
    Column("updated_at", UTCDateTime, nullable=False),
)

# A form in progress in a member's private chat: the command, the answers given so far (as
# typed; null for a skipped field), the step being asked, and when the form lapses. One per
# member, so a restart of the bot picks the exchange up where it was.
telegram_forms = Table(
    "telegram_forms",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("command", String(64), nullable=False),
    Column("answers", JSONText, nullable=False),
    Column("step", Integer, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_telegram_forms_expires_at", "expires_at"),
)


message_refs = Table(
    "message_refs",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("chat_id", String(64), primary_key=True),
    Column("message_id", String(64), primary_key=True),
    Column("subject", String(64), nullable=False),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # The messages about a subject: to edit them when it changes (bot.core.posts), to start
    # its discussion thread from one (Discord).
    Index("ix_message_refs_subject", "platform", "subject"),
)

# A live message: the one message per chat that shows a subject's current state ("dp:7", a
# drop's card), edited in place as the state changes. `item_id` is the outbox message whose
# content it shows, so an older update delivered late never replaces a newer one.
live_messages = Table(
    "live_messages",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("chat_id", String(64), primary_key=True),
    Column("subject", String(64), primary_key=True),
    Column("message_id", String(64), nullable=False),
    Column("item_id", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

processed_events = Table(
    "processed_events",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_processed_events_created_at", "created_at"),  # retention
)

# Telegram updates as received, stored before Telegram is told they arrived (the next
# getUpdates offset, or the webhook's 200), so that an update is handled, or handled again after
# a restart, but never lost. `handled_at` is set once its handling finished; handled rows stay
# a while so that a redelivered update is recognised, then housekeeping deletes them.
telegram_inbox = Table(
    "telegram_inbox",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("payload", JSONText, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("handled_at", UTCDateTime),
    # The process that stored it and handles it (PostgreSQL: its advisory lock says whether it
    # is alive; a survivor takes over what a dead one left unhandled). Null on SQLite.
    Column("worker", Integer),
    Index("ix_telegram_inbox_handled_at", "handled_at"),
)

# Telegram's sending limits shared by every process (PostgreSQL only): per chat, and under key
# 0 for all chats together, the times (database clock, epoch seconds, newest first) of the last
# messages sent, as many as the limit's window counts.
telegram_pace = Table(
    "telegram_pace",
    metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("recent", postgresql.ARRAY(Float).with_variant(JSONText, "sqlite"), nullable=False),
)
