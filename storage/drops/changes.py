"""The change-feed message of a drop whose claim state changed outside the claim engine.

Each process answers claims on a finished drop (sold out, waiting list full, or cancelled) from
memory. Some writes can undo that or change an answer: a win lapsing at its deadline, the
waiting list promoted, an F-code redeemed, a drop edited or cancelled, two accounts merged. They
publish `drop` (storage/change_feed.py) in their transaction, and every process reads the
drop's state again before its next answer. `r` says the reservations changed too.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from storage.change_feed import publish

TOPIC = "drop"


async def publish_drop(
    conn: AsyncConnection, drop_id: int | None, *, reservations: bool = False
) -> None:
    """Tell every process, on commit, to re-read this drop's claim state (None: every drop)."""
    await publish(conn, TOPIC, {"id": drop_id, "r": reservations})
