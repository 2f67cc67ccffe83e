"""Retention: keep the outbox, the job runs, the remembered platform events, the one-time codes
and what the features register (suggestion drafts) from growing without bound.

Outbox messages delivered (or given up on), job keys whose work finished and the features' rows
(`Feature.add_retention`) more than `retention_days` ago (a process setting, 90 days by
default), and platform event ids first seen (and Telegram updates handled, one-time codes
expired) more than `event_retention_days` ago (7 by default), are deleted in batches of short
transactions, at most once an hour, by the process that holds the scheduler lease. Kept
regardless of age: messages not yet delivered, job keys whose work has not finished (a later
claim must still be able to take them over) and Telegram updates not handled yet (a restart
replays them).

The retention must be longer than any window in which the same work can be found due again,
since a deleted key (and a deleted outbox dedup key) no longer stops it: drop phases are looked
for up to 60 days after drop time, so `retention_days` cannot go below 62. Event ids only
matter while a platform may redeliver the event (Telegram: a day; Discord: minutes).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.core.retention import (
    purge_job_runs,
    purge_one_time_codes,
    purge_outbox,
    purge_processed_events,
    purge_telegram_inbox,
)

log = logging.getLogger(__name__)

#: How often the clean-up runs.
EVERY = timedelta(hours=1)

#: A feature's clean-up: deletes its rows older than the cut-off it is given; how many.
Purge = Callable[[datetime], Awaitable[int]]


class Retention:
    def __init__(
        self,
        engine: AsyncEngine,
        keep: timedelta,
        *,
        events: timedelta | None = None,
        every: timedelta = EVERY,
        purges: Sequence[tuple[str, Purge]] = (),
    ) -> None:
        self.engine = engine
        self.keep = keep
        self.events = events if events is not None else keep
        self.every = every
        self.purges = purges  # the features' own, read at each run
        self._last: datetime | None = None

    async def maybe_run(self, now: datetime) -> dict[str, int] | None:
        """Clean up if the last clean-up here is `every` ago (or none ran yet)."""
        if self._last is not None and now - self._last < self.every:
            return None
        self._last = now
        return await self.run(now)

    async def run(self, now: datetime) -> dict[str, int]:
        before = now - self.keep
        deleted = {
            "outbox": await purge_outbox(self.engine, before),
            "job_runs": await purge_job_runs(self.engine, before),
            "processed_events": await purge_processed_events(self.engine, now - self.events),
            "telegram_inbox": await purge_telegram_inbox(self.engine, now - self.events),
            "one_time_codes": await purge_one_time_codes(self.engine, now - self.events),
        }
        for name, purge in self.purges:
            deleted[name] = await purge(before)
        if any(deleted.values()):
            log.info("retention: deleted rows older than %s: %s", before.isoformat(), deleted)
        return deleted
