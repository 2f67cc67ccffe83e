"""Several Telegram processes on one PostgreSQL database: who is alive, who polls, who sets the
webhook, and who takes over the updates a dead process left unhandled.

Each process keeps one connection of its own for as long as it runs and holds session-level
advisory locks on it: its worker lock (a random id, written beside every update it stores in
the inbox), and, while it polls, the polling lock. PostgreSQL releases a session's locks when
its connection ends, a SIGKILL included, so a lock that can be taken is the lock of a process
that is gone: its updates can be adopted, its polling taken over.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.platform.schema import telegram_inbox

log = logging.getLogger(__name__)

# Advisory lock namespaces (the two-key form: its keys never meet the one-key form's).
WORKER_LOCKS = 0x7467_0001  # (namespace, worker id): the process is alive
SINGLE_LOCKS = 0x7467_0002  # (namespace, what): one process at a time
POLLING = 1
WEBHOOK = 2


def _keys(space: int) -> str:
    """The lock's two keys. Advisory locks belong to the whole database, while a deployment is
    one schema of it: a one-at-a-time lock is keyed by the schema's name too, so deployments
    that share a database (or test runs side by side) never wait for each other. Worker ids are
    random and checked only against the schema's own inbox rows."""
    if space == SINGLE_LOCKS:
        named = "coalesce(current_schema(), '') || ':' || CAST(CAST(:k AS int) AS text)"
        return f"CAST(:s AS int), hashtext({named})"
    return "CAST(:s AS int), CAST(:k AS int)"


class WorkerPresence:
    """This process's presence (PostgreSQL only)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.worker: int | None = None
        self._conn: AsyncConnection | None = None

    async def start(self) -> int:
        """Open the presence connection and take a worker id of our own."""
        conn = await self.engine.connect()
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        self._conn = conn
        while True:
            worker = secrets.randbelow(2**31 - 1) + 1
            if await self._try_lock(WORKER_LOCKS, worker):
                self.worker = worker
                return worker

    async def close(self) -> None:
        if self._conn is not None:
            try:
                # Closed for good, not given back to the pool: its session (and locks) end.
                await self._conn.invalidate()
                await self._conn.close()
            except Exception:  # the connection was gone already: so are its locks
                log.debug("telegram: presence connection closed with an error", exc_info=True)
            self._conn = None

    def _c(self) -> AsyncConnection:
        assert self._conn is not None, "WorkerPresence.start() first"
        return self._conn

    async def _scalar(self, sql: str, **params: Any) -> Any:
        return (await self._c().execute(text(sql), params)).scalar()

    async def _try_lock(self, space: int, key: int) -> bool:
        return bool(
            await self._scalar(f"SELECT pg_try_advisory_lock({_keys(space)})", s=space, k=key)
        )

    async def _unlock(self, space: int, key: int) -> None:
        await self._scalar(f"SELECT pg_advisory_unlock({_keys(space)})", s=space, k=key)

    async def try_polling(self) -> bool:
        """Take the polling lock (Telegram allows one poller per token); False while another
        live process holds it. Kept until this process ends (or `release_polling`)."""
        return await self._try_lock(SINGLE_LOCKS, POLLING)

    async def release_polling(self) -> None:
        await self._unlock(SINGLE_LOCKS, POLLING)

    async def webhook_lock(self) -> None:
        """Wait for the webhook lock: the processes check and set the webhook one at a time."""
        await self._scalar(
            f"SELECT pg_advisory_lock({_keys(SINGLE_LOCKS)})", s=SINGLE_LOCKS, k=WEBHOOK
        )

    async def webhook_unlock(self) -> None:
        await self._unlock(SINGLE_LOCKS, WEBHOOK)

    async def check(self) -> None:
        """Raise when the presence connection (and with it this process's locks) is lost."""
        await self._scalar("SELECT 1")

    async def adopt(self) -> list[dict[str, Any]]:
        """Take over the unhandled updates of processes that are gone (and of no process:
        stored before workers were recorded), oldest first."""
        me = self.worker
        conn = self._c()
        rows = await conn.execute(
            text(
                "SELECT DISTINCT worker FROM telegram_inbox WHERE handled_at IS NULL "
                "AND (worker IS NULL OR worker <> :me)"
            ),
            {"me": me},
        )
        adopted: list[dict[str, Any]] = []
        for (worker,) in rows.all():
            if worker is not None and not await self._try_lock(WORKER_LOCKS, int(worker)):
                continue  # alive: it handles its own
            try:
                owner = (
                    telegram_inbox.c.worker.is_(None)
                    if worker is None
                    else telegram_inbox.c.worker == int(worker)
                )
                stmt = (
                    update(telegram_inbox)
                    .where(owner, telegram_inbox.c.handled_at.is_(None))
                    .values(worker=me)
                    .returning(telegram_inbox.c.update_id, telegram_inbox.c.payload)
                )
                got = (await conn.execute(stmt)).all()
                if got:
                    log.info(
                        "telegram: taking over %d updates left unhandled by %s",
                        len(got),
                        f"process {worker}" if worker is not None else "an earlier start",
                    )
                adopted.extend(dict(r[1]) | {"update_id": int(r[0])} for r in got)
            finally:
                if worker is not None:
                    await self._unlock(WORKER_LOCKS, int(worker))
        adopted.sort(key=lambda u: int(u["update_id"]))
        return adopted
