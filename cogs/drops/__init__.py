"""Reservation drops: reservations, flash claims (group commit), verifiable lotteries, F-codes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.core.commands import ParamType
from bot.core.contributions import FCodeIssuer
from bot.core.settings import SettingSpec
from cogs.drops import admin, commands
from cogs.drops.phase_runner import PhaseRunner
from cogs.drops.service import DropService
from storage.drops.account_merge import merge_accounts

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from bot.core.app import App


def setup(app: App) -> None:
    service = DropService(app.engine, app.clock, app.identity, app.services, tz_of=app.community_tz)
    app.services.add(service)
    app.services.add(service, as_type=FCodeIssuer)
    app.community_settings.declare(
        SettingSpec(
            "drop_status_seconds",
            "setting.drop_status_seconds",
            ParamType.INT,
            60,
            min=10,
            max=3600,
        )
    )
    phases = PhaseRunner(app, service)
    app.due_work.append(phases.run_due)
    service.kick = phases.run_due
    app.contribution_sources.append(service.contributions)

    async def merge(conn: AsyncConnection, from_account: int, to_account: int, *_: Any) -> None:
        await merge_accounts(conn, from_account, to_account, app.clock.now())
        service.claims.invalidate()

    app.account_mergers.append(merge)
    app.shutdown_hooks.append(service.claims.close)
    commands.register(app)
    admin.register(app)
