"""What an operator watches in the database: whether it answers, what waits in the outbox,
unfinished job runs and the scheduler lease. Read when a scraper asks (`GET /metrics`), never on
the path of an interaction; each query is served by an index (`ix_outbox_due`,
`ix_job_runs_finished_at`, the leases' primary key)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.core.schema import job_runs, leases, outbox


@dataclass(frozen=True)
class OutboxBacklog:
    """Messages of one platform not delivered yet (nor given up on)."""

    pending: int
    oldest: datetime  # when the oldest of them was stored


@dataclass(frozen=True)
class Vitals:
    outbox: dict[str, OutboxBacklog] = field(default_factory=dict)  # by platform
    jobs_running: int = 0  # claimed, unfinished, lease still running
    jobs_abandoned: int = 0  # claimed, unfinished, lease run out: waiting for a takeover
    oldest_unfinished_job: datetime | None = None  # when the oldest unfinished one was claimed
    lease_expires: datetime | None = None  # the lease `lease_name`, when some process holds it


async def ping(engine: AsyncEngine) -> None:
    """Raises when the database does not answer."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def read_vitals(engine: AsyncEngine, wall: datetime, lease_name: str) -> Vitals:
    """The figures, with `wall` (the processes' real time: job leases are judged on it) telling
    running job claims from abandoned ones."""
    pending = (outbox.c.delivered_at.is_(None), outbox.c.failed_at.is_(None))
    unfinished = job_runs.c.finished_at.is_(None)
    lapsed = job_runs.c.lease_until.is_(None) | (job_runs.c.lease_until < wall)
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.platform, func.count(), func.min(outbox.c.created_at))
            .where(*pending)
            .group_by(outbox.c.platform)
        )
        backlog = {
            str(platform): OutboxBacklog(int(count), oldest)
            for platform, count, oldest in rows
            if oldest is not None
        }
        jobs = (
            await conn.execute(
                select(
                    func.count().filter(~lapsed),
                    func.count().filter(lapsed),
                    func.min(job_runs.c.started_at),
                ).where(unfinished)
            )
        ).one()
        lease = await conn.scalar(select(leases.c.expires_at).where(leases.c.name == lease_name))
    return Vitals(
        outbox=backlog,
        jobs_running=int(jobs[0] or 0),
        jobs_abandoned=int(jobs[1] or 0),
        oldest_unfinished_job=jobs[2],
        lease_expires=lease,
    )
