"""What the bot's platform messages are about (so replies route after a restart), and which
platform events were already handled (so a redelivered update never counts twice)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.platform.schema import live_messages, message_refs, processed_events
from storage.util import insert_ignore


@dataclass(frozen=True)
class LiveMessage:
    message_id: str
    item_id: int  # the outbox message whose content it shows


class MessagesRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def remember(
        self,
        platform: str,
        chat_id: str,
        message_id: str,
        subject: str,
        community_id: int,
        now: datetime,
    ) -> None:
        async with self.engine.begin() as conn:
            await insert_ignore(
                conn,
                message_refs,
                {
                    "platform": platform,
                    "chat_id": chat_id,
                    "message_id": message_id,
                    "subject": subject,
                    "community_id": community_id,
                    "created_at": now,
                },
            )

    async def subject_of(self, platform: str, chat_id: str, message_id: str) -> str | None:
        async with self.engine.connect() as conn:
            r = await conn.execute(
                select(message_refs.c.subject).where(
                    message_refs.c.platform == platform,
                    message_refs.c.chat_id == chat_id,
                    message_refs.c.message_id == message_id,
                )
            )
            return r.scalar()

    async def messages_about(
        self, platform: str, subject: str, community_id: int
    ) -> list[tuple[str, str]]:
        """(chat id, message id) of the messages on `platform` about `subject`, oldest first."""
        async with self.engine.connect() as conn:
            r = await conn.execute(
                select(message_refs.c.chat_id, message_refs.c.message_id)
                .where(
                    message_refs.c.platform == platform,
                    message_refs.c.subject == subject,
                    message_refs.c.community_id == community_id,
                )
                .order_by(message_refs.c.created_at)
            )
            return [(str(row.chat_id), str(row.message_id)) for row in r]

    async def community_of(self, platform: str, chat_id: str, message_id: str) -> int | None:
        """The community a remembered message belongs to (a button pressed in a DM)."""
        async with self.engine.connect() as conn:
            r = await conn.execute(
                select(message_refs.c.community_id).where(
                    message_refs.c.platform == platform,
                    message_refs.c.chat_id == chat_id,
                    message_refs.c.message_id == message_id,
                )
            )
            value = r.scalar()
            return int(value) if value is not None else None

    async def live(self, platform: str, chat_id: str, subject: str) -> LiveMessage | None:
        """The message of this chat that shows `subject`'s current state, if any."""
        async with self.engine.connect() as conn:
            r = (
                await conn.execute(
                    select(live_messages.c.message_id, live_messages.c.item_id).where(
                        live_messages.c.platform == platform,
                        live_messages.c.chat_id == chat_id,
                        live_messages.c.subject == subject,
                    )
                )
            ).first()
            return LiveMessage(str(r.message_id), int(r.item_id)) if r else None

    async def set_live(
        self,
        platform: str,
        chat_id: str,
        subject: str,
        message_id: str,
        item_id: int,
        now: datetime,
    ) -> None:
        """Message `message_id` now shows `subject` as outbox message `item_id` had it."""
        key = (
            live_messages.c.platform == platform,
            live_messages.c.chat_id == chat_id,
            live_messages.c.subject == subject,
        )
        values = {"message_id": message_id, "item_id": item_id, "updated_at": now}
        async with self.engine.begin() as conn:
            res = await conn.execute(update(live_messages).where(*key).values(**values))
            if not res.rowcount:
                await insert_ignore(
                    conn,
                    live_messages,
                    {"platform": platform, "chat_id": chat_id, "subject": subject, **values},
                )

    async def first_time(self, platform: str, event_id: str, now: datetime) -> bool:
        """Record a platform event; False when it was seen before (a redelivery)."""
        async with self.engine.begin() as conn:
            return bool(
                await insert_ignore(
                    conn,
                    processed_events,
                    {"platform": platform, "event_id": event_id, "created_at": now},
                )
            )

    async def forget_event(self, platform: str, event_id: str) -> None:
        """Forget one recorded event (what it stood for did not happen after all)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(processed_events).where(
                    processed_events.c.platform == platform,
                    processed_events.c.event_id == event_id,
                )
            )

    async def forget_events_before(self, when: datetime) -> int:
        async with self.engine.begin() as conn:
            res = await conn.execute(
                delete(processed_events).where(processed_events.c.created_at < when)
            )
            return int(res.rowcount or 0)
