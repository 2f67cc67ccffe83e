"""The outbox: notifications are stored first, then delivered by the adapters with retries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.bulk import Constant, EncodedJSON, insert_rows
from storage.core.schema import outbox
from storage.types import UTCDateTime
from storage.util import insert_ignore


@dataclass(frozen=True)
class OutboxItem:
    id: int
    community_id: int
    platform: str
    kind: str
    target: str
    account_id: int | None
    payload: dict[str, Any]
    attempts: int


@dataclass(slots=True)  # not frozen: a burst makes one per winner, and frozen costs ~4x
class NewMessage:
    community_id: int
    platform: str
    kind: str  # "channel" | "member"
    target: str
    payload: dict[str, Any]
    account_id: int | None = None
    dedup_key: str | None = None
    # `payload` already encoded (`storage.bulk.encode_json(payload)`), when the sender made it
    # cheaper than encoding each message (a burst's win messages differ only by their code).
    encoded: EncodedJSON | None = None


#: Messages stored per transaction by `OutboxRepo.add`.
ADD_BATCH = 2_000


def message_row(m: NewMessage, now: datetime) -> dict[str, Any]:
    return {
        "community_id": m.community_id,
        "platform": m.platform,
        "kind": m.kind,
        "target": m.target,
        "account_id": m.account_id,
        "payload": m.payload,
        "dedup_key": m.dedup_key,
        "created_at": now,
        "next_attempt_at": now,
    }


async def add_in(conn: AsyncConnection, messages: Sequence[NewMessage], now: datetime) -> None:
    """Store messages inside the caller's transaction, so that they are stored if and only if
    what they announce is (a win and the message with its code). One set-based statement
    however many; a message whose dedup_key is already stored is skipped. The caller wakes the
    delivery workers (`Outbox.wake`) after its commit."""
    if not messages:
        return
    await insert_rows(
        conn,
        outbox.name,
        _ADD_COLUMNS,
        [
            (
                m.community_id,
                m.platform,
                m.kind,
                m.target,
                m.account_id,
                m.payload if m.encoded is None else m.encoded,
                m.dedup_key,
            )
            for m in messages
        ],
        constants={
            "created_at": Constant(now, UTCDateTime()),
            "next_attempt_at": Constant(now, UTCDateTime()),
        },
        ignore_conflicts=True,
    )


_ADD_COLUMNS = (
    ("community_id", "INTEGER"),
    ("platform", "TEXT"),
    ("kind", "TEXT"),
    ("target", "TEXT"),
    ("account_id", "INTEGER"),
    ("payload", "JSON"),
    ("dedup_key", "TEXT"),
)


class OutboxRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(self, messages: list[NewMessage], now: datetime) -> int:
        """Store messages; one whose dedup_key is already stored is skipped. Returns how many.

        Rows go in batches of `ADD_BATCH`, one transaction each, so that nudging a million
        reservers never holds the database's write lock for long: a claim burst that starts at
        the same moment keeps going between batches. A batch that fails is not half-stored, and
        storing the same keyed messages again only adds the missing ones."""
        added = 0
        for start in range(0, len(messages), ADD_BATCH):
            batch = messages[start : start + ADD_BATCH]
            keyed = [message_row(m, now) for m in batch if m.dedup_key is not None]
            plain = [message_row(m, now) for m in batch if m.dedup_key is None]
            async with self.engine.begin() as conn:
                if plain:
                    await conn.execute(insert(outbox), plain)
                    added += len(plain)
                added += await insert_ignore(conn, outbox, keyed)
        return added

    async def claim_due(
        self, platform: str, now: datetime, limit: int = 50, lease: timedelta = timedelta(minutes=2)
    ) -> list[OutboxItem]:
        """Due messages for a platform, leased so that another worker does not take them too."""
        async with self.engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(outbox)
                    .where(
                        outbox.c.platform == platform,
                        outbox.c.delivered_at.is_(None),
                        outbox.c.failed_at.is_(None),
                        outbox.c.next_attempt_at <= now,
                    )
                    .order_by(outbox.c.id)
                    .limit(limit)
                )
            ).all()
            claimed = []
            for r in rows:
                res = await conn.execute(
                    update(outbox)
                    .where(outbox.c.id == r.id, outbox.c.next_attempt_at == r.next_attempt_at)
                    .values(next_attempt_at=now + lease)
                )
                if res.rowcount:
                    claimed.append(
                        OutboxItem(
                            r.id,
                            r.community_id,
                            r.platform,
                            r.kind,
                            r.target,
                            r.account_id,
                            r.payload,
                            r.attempts,
                        )
                    )
            return claimed

    async def extend_lease(self, item_ids: list[int], until: datetime) -> None:
        """Keep claimed messages leased while their worker is busy with the batch (a worker
        that dies stops extending, and the lease soon lapses for another to take them)."""
        if not item_ids:
            return
        async with self.engine.begin() as conn:
            await conn.execute(
                update(outbox)
                .where(
                    outbox.c.id.in_(item_ids),
                    outbox.c.delivered_at.is_(None),
                    outbox.c.failed_at.is_(None),
                )
                .values(next_attempt_at=until)
            )

    async def unclaim(self, item_ids: list[int], now: datetime) -> None:
        """Give claimed messages back undelivered (a stop), so that the next start or another
        worker takes them at once instead of after the claim's lease."""
        if not item_ids:
            return
        async with self.engine.begin() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(item_ids), outbox.c.delivered_at.is_(None))
                .values(next_attempt_at=now)
            )

    async def delivered(self, item_id: int, now: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == item_id)
                .values(delivered_at=now, attempts=outbox.c.attempts + 1)
            )

    async def retry_later(
        self, item_id: int, when: datetime, error: str, *, give_up_at: datetime | None = None
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == item_id)
                .values(
                    next_attempt_at=when,
                    attempts=outbox.c.attempts + 1,
                    last_error=error[:500],
                    failed_at=give_up_at,
                )
            )

    async def newer_exists(self, item: OutboxItem) -> bool:
        """A row added after `item` for the same community, platform, kind and target (read
        along the primary key from `item` on: the rows after it)."""
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(outbox.c.id)
                .where(
                    outbox.c.id > item.id,
                    outbox.c.community_id == item.community_id,
                    outbox.c.platform == item.platform,
                    outbox.c.kind == item.kind,
                    outbox.c.target == item.target,
                )
                .limit(1)
            )
            return found.first() is not None

    async def pending_count(self, platform: str | None = None) -> int:
        async with self.engine.connect() as conn:
            q = select(outbox.c.id).where(
                outbox.c.delivered_at.is_(None), outbox.c.failed_at.is_(None)
            )
            if platform:
                q = q.where(outbox.c.platform == platform)
            return len((await conn.execute(q)).all())
