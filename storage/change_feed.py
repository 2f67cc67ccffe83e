"""Changes other processes must hear of, through PostgreSQL's LISTEN/NOTIFY.

A write that changes what processes keep in memory (a suggestion posted, hidden or merged; an
account linked) calls `publish` inside its own transaction (`announce` sends one on its own,
for what the database does not hold): `pg_notify` queues the message,
and PostgreSQL delivers it to every listening connection only if, and when, the transaction
commits. A rolled-back write tells no one.

`PgListener` is the receiving end: one dedicated asyncpg connection per process (not one of
the pool's), `LISTEN`ing on the schema's channel. Each message is handed to `on_change` as
(topic, data). Notifications are not stored: a listener that was not connected misses them.
So after every (re)connection `on_resync` is called, and the readers throw away or re-read
what they hold (the listener is already listening then, so nothing committed after the
re-read is missed). A lost connection is noticed by asyncpg's termination callback or by a
health query every `health_every` seconds, and the listener reconnects with a growing pause.

The channel is per schema (`fanloop_` and the md5 of `current_schema()`): processes on one
database but different schemas (tests, two deployments) do not hear each other.

SQLite has no such thing and needs none (one process): `publish` does nothing there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

#: The channel, computed by the server from the connection's search path.
CHANNEL_SQL = "'fanloop_' || md5(current_schema())"
_PUBLISH = text(f"SELECT pg_notify({CHANNEL_SQL}, :payload)")
#: PostgreSQL refuses payloads from 8000 bytes; ours are a topic and a few ids.
MAX_PAYLOAD = 7900

ChangeHandler = Callable[[str, dict[str, Any]], None]


async def publish(conn: AsyncConnection, topic: str, data: Mapping[str, Any]) -> None:
    """Queue a change message in the transaction of `conn` (delivered on commit). A no-op on
    SQLite."""
    if conn.dialect.name != "postgresql":
        return
    payload = json.dumps({"t": topic, **data}, separators=(",", ":"))
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"change message too long ({len(payload)} bytes)")
    await conn.execute(_PUBLISH, {"payload": payload})


async def announce(engine: AsyncEngine, topic: str, data: Mapping[str, Any]) -> None:
    """Send a change message on its own, for a change the database does not hold (a chat's
    administrators changed on the platform). A no-op on SQLite."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.begin() as conn:
        await publish(conn, topic, data)


def decode(payload: str) -> tuple[str, dict[str, Any]] | None:
    """(topic, data) of a message; None for one that is not ours."""
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("t"), str):
        return None
    topic = data.pop("t")
    return topic, data


class PgListener:
    """One LISTEN connection for the process, reconnecting, resyncing after each connection."""

    def __init__(
        self,
        engine: AsyncEngine,
        on_change: ChangeHandler,
        on_resync: Callable[[], None],
        *,
        health_every: float = 5.0,
        retry_max: float = 5.0,
    ) -> None:
        self.engine = engine
        self.on_change = on_change
        self.on_resync = on_resync
        self.health_every = health_every
        self.retry_max = retry_max
        self.connections = 0  # connections made so far (the first and each reconnection)
        self.connected = asyncio.Event()
        self.channel: str | None = None
        self._conn: Any = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="change-feed-listener")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close()

    async def _run(self) -> None:
        pause = 0.1
        while True:
            try:
                await self._listen_until_lost()
                pause = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("change feed: connection failed or lost (%s); retrying", exc)
            self.connected.clear()
            await self._close()
            await asyncio.sleep(pause)
            pause = min(pause * 2, self.retry_max)

    async def _listen_until_lost(self) -> None:
        import asyncpg

        if self.channel is None:
            async with self.engine.connect() as conn:
                self.channel = str((await conn.execute(text(f"SELECT {CHANNEL_SQL}"))).scalar())
        _, params = self.engine.dialect.create_connect_args(self.engine.url)
        for key in ("prepared_statement_cache_size", "prepared_statement_name_func"):
            params.pop(key, None)
        lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def terminated(_conn: Any) -> None:
            if not lost.done():
                lost.set_result(None)

        self._conn = conn = await asyncpg.connect(**params)
        conn.add_termination_listener(terminated)
        await conn.add_listener(self.channel, self._received)
        self.connections += 1
        self.connected.set()
        log.info("change feed: listening (connection %d)", self.connections)
        self._resync()
        while not lost.done():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(lost), self.health_every)
            if not lost.done():
                await asyncio.wait_for(conn.fetchval("SELECT 1"), self.health_every)
        raise ConnectionError("the listening connection was closed")

    def _received(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        message = decode(payload)
        if message is None:
            return
        try:
            self.on_change(*message)
        except Exception:
            log.exception("change feed: a handler failed on %s", message[0])

    def _resync(self) -> None:
        try:
            self.on_resync()
        except Exception:
            log.exception("change feed: a resync failed")

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2)
            if not conn.is_closed():
                conn.terminate()

    @property
    def server_pid(self) -> int | None:
        """The server process of the listening connection (None while not connected)."""
        conn = self._conn
        return int(conn.get_server_pid()) if conn is not None and not conn.is_closed() else None
