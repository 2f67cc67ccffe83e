"""Telegram-specific records: each member's home group, and group → supergroup migrations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.core.schema import spaces
from storage.platform.schema import message_refs, telegram_homes

PLATFORM = "telegram"


@dataclass(frozen=True)
class Home:
    chat_id: str
    chat_title: str


class TelegramRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def home(self, user_id: str) -> Home | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(telegram_homes.c.chat_id, telegram_homes.c.chat_title).where(
                        telegram_homes.c.user_id == user_id
                    )
                )
            ).first()
            return Home(row.chat_id, row.chat_title) if row else None

    async def set_homes(self, homes: list[tuple[str, Home, datetime]]) -> None:
        """Record (user id, home group, when) for many members in one transaction: one upsert
        run for every row (`executemany`), so a burst of new members costs one round trip to
        the database, not two statements each holding the write lock."""
        if not homes:
            return
        rows = [
            {
                "user_id": user_id,
                "chat_id": home.chat_id,
                "chat_title": home.chat_title[:128],
                "updated_at": now,
            }
            for user_id, home, now in homes
        ]
        async with self.engine.begin() as conn:
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            stmt = insert(telegram_homes)
            stmt = stmt.on_conflict_do_update(
                index_elements=[telegram_homes.c.user_id],
                set_={
                    "chat_id": stmt.excluded.chat_id,
                    "chat_title": stmt.excluded.chat_title,
                    "updated_at": stmt.excluded.updated_at,
                },
            )
            await conn.execute(stmt, rows)

    async def posted(self, chat_id: str, subject: str) -> bool:
        """Whether the bot has posted a message about `subject` in the chat."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(message_refs.c.message_id)
                    .where(
                        message_refs.c.platform == PLATFORM,
                        message_refs.c.chat_id == chat_id,
                        message_refs.c.subject == subject,
                    )
                    .limit(1)
                )
            ).first()
            return row is not None

    async def migrate_chat(self, old_chat_id: str, new_chat_id: str) -> bool:
        """A group became a supergroup (new chat id): keep its community, homes and messages.
        False when the old chat was unknown or the new one already has a community."""
        async with self.engine.begin() as conn:
            taken = (
                await conn.execute(
                    select(spaces.c.id).where(
                        spaces.c.platform == PLATFORM, spaces.c.space_id == new_chat_id
                    )
                )
            ).first()
            if taken is not None:
                return False
            res = await conn.execute(
                update(spaces)
                .where(spaces.c.platform == PLATFORM, spaces.c.space_id == old_chat_id)
                .values(space_id=new_chat_id)
            )
            if not res.rowcount:
                return False
            await conn.execute(
                update(spaces)
                .where(spaces.c.platform == PLATFORM, spaces.c.announce_channel == old_chat_id)
                .values(announce_channel=new_chat_id)
            )
            await conn.execute(
                update(telegram_homes)
                .where(telegram_homes.c.chat_id == old_chat_id)
                .values(chat_id=new_chat_id)
            )
            await conn.execute(
                update(message_refs)
                .where(message_refs.c.platform == PLATFORM, message_refs.c.chat_id == old_chat_id)
                .values(chat_id=new_chat_id)
            )
            return True
