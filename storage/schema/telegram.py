"""Telegram: which group a member's private chat with the bot speaks for."""

from sqlalchemy import Column, String, Table

from storage.schema.base import metadata
from storage.types import UTCDateTime

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
