"""Each interaction acts once, however often Discord delivers it.

Discord may deliver the same interaction (same id) more than once: again on the same
connection, or to another process connected with the same token. Only the first delivery is
worked on and answered; a redelivery is left alone (Discord takes one response per interaction,
and the first delivery gives it).

Checks and records, the first of which costs nothing:
- `again(id)`: the ids this process saw lately, in memory, checked and noted before any await.
  A redelivery that reaches this process while, or after, the first is worked on never touches
  the interaction's response, so it cannot take the first one's acknowledgement.
- `recorded_before(id)`: the id written to `processed_events` (one `INSERT … ON CONFLICT DO
  NOTHING`), right before the work runs, for an interaction worked on before any response (the
  calm case). It catches a redelivery after a restart and one that reaches another process.
- `note(id)`: an interaction acknowledged before its work (a burst) is owned by that
  acknowledgement; its id is written after the work, many in one statement every half second,
  unless the service recorded the receipt with its effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict

from sqlalchemy.dialects import postgresql, sqlite

from bot.adapters.discord.members import PLATFORM
from bot.core.clock import Clock
from storage.platform.messages import MessagesRepo
from storage.platform.schema import processed_events

log = logging.getLogger(__name__)

RECENT = 10_000  # interaction ids kept in memory; older redeliveries are caught by the database
FLUSH_EVERY = 0.5  # seconds between two writes of the interactions acted on
FLUSH_MAX = 1000  # ids in one statement at most


def event_id(interaction_id: int) -> str:
    """The interaction's key in `processed_events`: its receipt's event id (`Receipt`), so a
    service that records the receipt with its effect and this module write the same row."""
    return str(interaction_id)


class Redeliveries:
    def __init__(self, messages: MessagesRepo, clock: Clock, recent: int = RECENT) -> None:
        self.messages = messages
        self.clock = clock
        self.recent = recent
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._pending: list[int] = []  # acted on, not written yet (see `note`)
        self._flusher: asyncio.Task[None] | None = None

    def again(self, interaction_id: int) -> bool:
        """True when this process saw the interaction before; notes it otherwise."""
        if interaction_id in self._seen:
            return True
        self._seen[interaction_id] = None
        if len(self._seen) > self.recent:
            self._seen.popitem(last=False)
        return False

    def note(self, interaction_id: int) -> None:
        """Record an interaction this process acted on (its acknowledgement made it the owner)
        for a redelivery that would reach a process without it in memory: written with the
        others of the last `FLUSH_EVERY` seconds in one statement, not a transaction each."""
        self._pending.append(interaction_id)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(FLUSH_EVERY)
        await self.flush()

    async def flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:FLUSH_MAX], self._pending[FLUSH_MAX:]
            now = self.clock.now()
            rows = [
                {"platform": PLATFORM, "event_id": event_id(i), "created_at": now} for i in batch
            ]
            try:
                async with self.messages.engine.begin() as conn:
                    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
                    stmt = dialect.insert(processed_events).on_conflict_do_nothing()
                    await conn.execute(stmt, rows)
            except Exception:
                log.exception("could not record %d handled interactions", len(batch))

    async def close(self) -> None:
        if self._flusher is not None and not self._flusher.done():
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.flush()

    async def recorded_before(self, interaction_id: int) -> bool:
        """Record the interaction as handled; True when it was recorded before (by an earlier
        run of the bot, or by another process)."""
        first = await self.messages.first_time(PLATFORM, event_id(interaction_id), self.clock.now())
        return not first
