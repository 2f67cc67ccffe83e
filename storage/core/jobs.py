"""Exactly-once scheduled work (period keys) and the scheduler lease between processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.core.schema import job_runs, leases
from storage.util import insert_ignore


class JobsRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def claim(self, key: str, holder: str, now: datetime) -> bool:
        """True for exactly one caller per key, across processes and restarts."""
        async with self.engine.begin() as conn:
            return bool(
                await insert_ignore(
                    conn, job_runs, {"key": key, "holder": holder, "started_at": now}
                )
            )

    async def finish(self, key: str, now: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(job_runs).where(job_runs.c.key == key).values(finished_at=now)
            )

    async def release(self, key: str) -> None:
        """Give a claimed key back (the work failed and should be tried again)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(job_runs).where(job_runs.c.key == key, job_runs.c.finished_at.is_(None))
            )

    async def done(self, key: str) -> bool:
        async with self.engine.connect() as conn:
            r = await conn.execute(select(job_runs.c.key).where(job_runs.c.key == key))
            return r.first() is not None

    async def acquire_lease(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take or renew the lease `name`; True while this holder has it."""
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(leases)
                .where(
                    leases.c.name == name, (leases.c.holder == holder) | (leases.c.expires_at < now)
                )
                .values(holder=holder, expires_at=until)
            )
            if res.rowcount:
                return True
            return bool(
                await insert_ignore(
                    conn, leases, {"name": name, "holder": holder, "expires_at": until}
                )
            )
