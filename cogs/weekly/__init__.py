"""The weekly loop: releases ("Orange Friday"), the four-grid report, the popcorn award, and on
the same schedule the daily admin digest and the monthly roadmap post."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cogs.weekly import admin, commands, config
from cogs.weekly.digest import DigestWork
from cogs.weekly.flows import WeeklyFlows
from cogs.weekly.schedule import WeeklySchedule
from cogs.weekly.service import WeeklyService
from storage.weekly.ballots import BallotRepo
from storage.weekly.releases import ReleaseRepo
from storage.weekly.reports import ReportRepo

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from bot.core.app import App


def setup(app: App) -> None:
    service = WeeklyService(
        ReleaseRepo(app.engine),
        ReportRepo(app.engine),
        BallotRepo(app.engine),
        app.clock,
        app.services,
    )
    flows = WeeklyFlows(app, service)
    digest = DigestWork(app, flows)
    app.services.add(service)
    app.services.add(flows)
    app.services.add(digest)
    config.declare(app)
    app.due_work.append(WeeklySchedule(app, flows, digest).run_due)
    app.contribution_sources.append(service.contributions)

    async def merge(conn: AsyncConnection, from_account: int, to_account: int, *_: Any) -> None:
        await BallotRepo.merge_accounts(conn, from_account, to_account)

    app.account_mergers.append(merge)
    app.shutdown_hooks.append(service.batcher.close)
    commands.register(app)
    admin.register(app)
