"""Exactly-once scheduled work (period keys) and the scheduler lease between processes.

A key is claimed with a lease (`job_runs.lease_until`) that its holder renews while the work
runs. A claim whose lease ran out without the work finishing was left by a process that died
(SIGKILL, out of memory, power): the next claim of the key takes it over, and the work runs to
its end there. Leases are judged on the wall clock of the processes, not on a fake clock a
console or a test may run on: they say whether a process is alive.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.core.schema import job_runs, leases
from storage.util import insert_ignore

#: How long a claimed key stays with its holder without a renewal.
JOB_LEASE = timedelta(seconds=60)


def wall_clock() -> datetime:
    return datetime.now(UTC)


class JobsRepo:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        lease: timedelta = JOB_LEASE,
        wall: Callable[[], datetime] = wall_clock,
    ) -> None:
        self.engine = engine
        self.lease = lease
        self.wall = wall

    async def claim(self, key: str, holder: str, now: datetime) -> bool:
        """True for exactly one caller per key at a time, across processes and restarts: the
        first, or the one that takes over a claim whose lease ran out unfinished. Never for a
        finished key."""
        wall = self.wall()
        until = wall + self.lease
        async with self.engine.begin() as conn:
            if await insert_ignore(
                conn,
                job_runs,
                {"key": key, "holder": holder, "started_at": now, "lease_until": until},
            ):
                return True
            res = await conn.execute(
                update(job_runs)
                .where(
                    job_runs.c.key == key,
                    job_runs.c.finished_at.is_(None),
                    # No lease: claimed before claims had one, by a process long gone.
                    or_(job_runs.c.lease_until.is_(None), job_runs.c.lease_until < wall),
                )
                .values(holder=holder, lease_until=until)
            )
            return bool(res.rowcount)

    async def renew(self, key: str, holder: str) -> bool:
        """Extend the holder's lease on an unfinished key; False when it is not theirs any more
        (it ran out and another process took the key over)."""
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(job_runs)
                .where(
                    job_runs.c.key == key,
                    job_runs.c.holder == holder,
                    job_runs.c.finished_at.is_(None),
                )
                .values(lease_until=self.wall() + self.lease)
            )
            return bool(res.rowcount)

    async def finish(self, key: str, now: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(job_runs)
                .where(job_runs.c.key == key, job_runs.c.finished_at.is_(None))
                .values(finished_at=now, lease_until=None)
            )

    async def release(self, key: str, holder: str | None = None) -> None:
        """Give a claimed key back (the work failed and should be tried again), if it is still
        unfinished (and still the holder's, when one is named)."""
        cond = [job_runs.c.key == key, job_runs.c.finished_at.is_(None)]
        if holder is not None:
            cond.append(job_runs.c.holder == holder)
        async with self.engine.begin() as conn:
            await conn.execute(delete(job_runs).where(*cond))

    async def done(self, key: str) -> bool:
        """Whether the work of `key` ran to its end."""
        async with self.engine.connect() as conn:
            r = await conn.execute(
                select(job_runs.c.key).where(
                    job_runs.c.key == key, job_runs.c.finished_at.is_not(None)
                )
            )
            return r.first() is not None

    async def unfinished(self, key: str) -> bool:
        """Whether `key` was claimed and its work has not finished (it runs now, or its process
        died and a later claim will take it over)."""
        async with self.engine.connect() as conn:
            r = await conn.execute(
                select(job_runs.c.key).where(
                    job_runs.c.key == key, job_runs.c.finished_at.is_(None)
                )
            )
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

    async def release_lease(self, name: str, holder: str) -> bool:
        """Give the lease `name` up (a clean stop), so that another process may take it at once."""
        async with self.engine.begin() as conn:
            res = await conn.execute(
                delete(leases).where(leases.c.name == name, leases.c.holder == holder)
            )
            return bool(res.rowcount)
