"""Statistics that keep up with a burst (PostgreSQL).

PostgreSQL plans a foreign-key check (and any statement a driver prepares) once per connection
and keeps the plan until the table's statistics change. Planned while a table was small (a young
community: `accounts` analysed at a few dozen rows), the check of each new row against it reads
the whole table, and a burst that grows the table pays for every row already there on every row
it adds: 20,000 new members, each checked against `accounts` a few times, read 16 billion rows
and took minutes. Autovacuum analyses the table in time, but on its own schedule (a minute
apart at best), which is the length of a burst.

`Growth` counts the rows a process adds to such tables and analyses a table itself once it has
added as many rows as the table had when last analysed (and at least `ANALYZE_FROM`): new
statistics make PostgreSQL plan those checks again, by key. A burst of N rows costs about
log2(N / ANALYZE_FROM) analyses of a table, each a sample of at most 30,000 rows. SQLite checks
a foreign key through the parent's key whatever the table holds: nothing to do there.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

ANALYZE_FROM = 1_000  # rows added before a table's first analysis here

_BY_ENGINE: weakref.WeakKeyDictionary[AsyncEngine, Growth] = weakref.WeakKeyDictionary()


class Growth:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._added: dict[str, int] = {}  # rows added since this process last analysed
        self._rows: dict[str, int] = {}  # rows the table had when last analysed here
        self.analyses = 0

    @classmethod
    def of(cls, engine: AsyncEngine) -> Growth | None:
        """The engine's counter (one per engine); None where there is nothing to do (SQLite)."""
        if engine.dialect.name != "postgresql":
            return None
        growth = _BY_ENGINE.get(engine)
        if growth is None:
            growth = _BY_ENGINE[engine] = cls(engine)
        return growth

    async def added(self, rows: Mapping[str, int]) -> None:
        """Rows just committed to these tables; analyses the ones that doubled. Call after the
        commit, outside its transaction. A failed analysis is logged and tried again later:
        autovacuum still keeps the statistics, only later."""
        due = []
        for table, n in rows.items():
            if n <= 0:
                continue
            added = self._added.get(table, 0) + n
            self._added[table] = added
            if added >= max(ANALYZE_FROM, self._rows.get(table, 0)):
                due.append(table)
        if not due:
            return
        try:
            async with self.engine.connect() as conn:
                for table in due:
                    await conn.execute(text(f"ANALYZE {table}"))
                    rows_now = (
                        await conn.execute(
                            text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"),
                            {"t": table},
                        )
                    ).scalar()
                    self._rows[table] = max(0, int(rows_now or 0))
                    self._added[table] = 0
                    self.analyses += 1
                await conn.commit()
        except Exception as exc:
            log.warning("could not analyse %s: %s", ", ".join(due), exc)
