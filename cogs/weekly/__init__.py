"""The weekly loop: releases ("Orange Friday"), the four-grid report, the popcorn award, and on
the same schedule the daily admin digest and the monthly roadmap post."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.feature import FeatureSetup
from cogs.weekly import admin, commands, config, corrections
from cogs.weekly.digest import DigestWork
from cogs.weekly.flows import WeeklyFlows
from cogs.weekly.schedule import WeeklySchedule
from cogs.weekly.service import WeeklyService
from storage.weekly.ballots import BallotRepo
from storage.weekly.releases import ReleaseRepo
from storage.weekly.reports import ReportRepo


def setup(feature: FeatureSetup) -> None:
    f = feature
    service = WeeklyService(
        ReleaseRepo(f.engine),
        ReportRepo(f.engine),
        BallotRepo(f.engine),
        f.clock,
        f.services,
    )
    flows = WeeklyFlows(service, f.due_work_tools)
    digest = DigestWork(flows, f.clock, f.outbox, f.settings)
    f.services.add(service)
    f.services.add(flows)
    f.services.add(digest)
    config.declare(f.settings)
    f.add_due_work(WeeklySchedule(flows, digest, f.clock, f.jobs, f.settings).run_due)
    f.add_contribution_source(service.contributions)

    async def merge(conn: AsyncConnection, from_account: int, to_account: int, /) -> None:
        await BallotRepo.merge_accounts(conn, from_account, to_account)

    f.add_account_merger(merge)
    f.on_shutdown(service.batcher.close)
    commands.register(f)
    admin.register(f)
    corrections.register(f)
