"""The process's change feed: what other processes changed, fanned out to the readers here.

The readers are what a process keeps in memory: the identity cache (topic `identity`), the
similar-suggestion index (topic `suggestion`). Each subscribes to its topic, and to `resync`,
called after the feed (re)connected, when messages may have been missed: the reader then
forgets or re-reads what it holds.

On PostgreSQL the messages come through LISTEN/NOTIFY (storage/change_feed.py): writers
publish inside their transaction, so a message arrives only once its change is committed, and
every process hears every change, its own included. On SQLite the feed is a no-op: there is one
process, and what it writes it already knows. `live` says which.

Handlers are plain functions called on the event loop; one with database work to do queues it
for a task of its own, and must not block.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.change_feed import PgListener, announce
from storage.engine import is_sqlite

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]


class ChangeFeed:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._handlers: dict[str, list[Handler]] = {}
        self._resyncs: list[Callable[[], None]] = []
        self.listener: PgListener | None = None
        # Whether other processes may write the database: PostgreSQL.
        self.shared = not is_sqlite(engine)

    @property
    def live(self) -> bool:
        """Whether other processes' changes are being heard (started, on PostgreSQL)."""
        return self.listener is not None

    def subscribe(self, topic: str, handler: Handler) -> None:
        self._handlers.setdefault(topic, []).append(handler)

    def on_resync(self, handler: Callable[[], None]) -> None:
        self._resyncs.append(handler)

    def start(self) -> None:
        """Start listening (PostgreSQL); a no-op on SQLite, or when started already."""
        if not self.shared or self.listener is not None:
            return
        self.listener = PgListener(self.engine, self.deliver, self.resync)
        self.listener.start()

    async def stop(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            await listener.stop()

    async def announce(self, topic: str, data: dict[str, Any]) -> None:
        """Tell every process (this one included) of a change the database does not hold, such
        as a platform's roles; nothing on SQLite."""
        if self.shared:
            await announce(self.engine, topic, data)

    def deliver(self, topic: str, data: dict[str, Any]) -> None:
        for handler in self._handlers.get(topic, ()):
            try:
                handler(data)
            except Exception:
                log.exception("change feed: the %s handler failed", topic)

    def resync(self) -> None:
        for handler in self._resyncs:
            try:
                handler()
            except Exception:
                log.exception("change feed: a resync handler failed")
