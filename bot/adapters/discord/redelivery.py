"""Each interaction acts once, however often Discord delivers it.

Discord may deliver the same interaction (same id) more than once: again on the same
connection, or to another process connected with the same token. Only the first delivery is
worked on and answered; a redelivery is left alone (Discord takes one response per interaction,
and the first delivery gives it).

Two checks, the first of which costs nothing:
- `again(id)`: the ids this process saw lately, in memory, checked and noted before any await.
  A redelivery that reaches this process while, or after, the first is worked on never touches
  the interaction's response, so it cannot take the first one's acknowledgement.
- `recorded_before(id)`: the id written to `processed_events` (one `INSERT … ON CONFLICT DO
  NOTHING`), right before the work runs. It catches a redelivery after a restart and one that
  reaches another process on the same database.
"""

from __future__ import annotations

from collections import OrderedDict

from bot.adapters.discord.members import PLATFORM
from bot.core.clock import Clock
from storage.platform.messages import MessagesRepo

RECENT = 10_000  # interaction ids kept in memory; older redeliveries are caught by the database


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

    def again(self, interaction_id: int) -> bool:
        """True when this process saw the interaction before; notes it otherwise."""
        if interaction_id in self._seen:
            return True
        self._seen[interaction_id] = None
        if len(self._seen) > self.recent:
            self._seen.popitem(last=False)
        return False

    async def record(self, interaction_id: int) -> None:
        """Record an interaction this process acted on (after the work: its acknowledgement
        made it the owner), for a redelivery that would reach a process without it in memory."""
        await self.messages.first_time(PLATFORM, event_id(interaction_id), self.clock.now())

    async def recorded_before(self, interaction_id: int) -> bool:
        """Record the interaction as handled; True when it was recorded before (by an earlier
        run of the bot, or by another process)."""
        first = await self.messages.first_time(PLATFORM, event_id(interaction_id), self.clock.now())
        return not first
