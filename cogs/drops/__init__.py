"""Reservation drops: reservations, flash claims (group commit), verifiable lotteries, F-codes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.commands import ParamType
from bot.core.fcodes import FCodeIssuer
from bot.core.feature import FeatureSetup
from bot.core.settings import SettingSpec
from cogs.drops import admin, commands
from cogs.drops.phase_runner import REMINDER_SETTING, PhaseRunner
from cogs.drops.service import DropService
from storage.drops.account_merge import merge_accounts
from storage.drops.changes import TOPIC as DROP_TOPIC


def setup(feature: FeatureSetup) -> None:
    service = DropService(
        feature.engine,
        feature.clock,
        feature.identity,
        feature.services,
        tz_of=feature.settings.timezone,
        translator=feature.translator,
        on_messages=feature.outbox.wake.set,
        on_claim=feature.metrics.claimed,
    )
    feature.services.add(service)
    feature.services.add(service, as_type=FCodeIssuer)
    feature.settings.declare(
        SettingSpec(
            "drop_status_seconds",
            "setting.drop_status_seconds",
            ParamType.INT,
            60,
            min=10,
            max=3600,
        )
    )
    feature.settings.declare(
        SettingSpec(
            REMINDER_SETTING,
            "setting.drop_reminder_minutes",
            ParamType.INT,
            10,
            min=0,
            max=1440,
        )
    )
    phases = PhaseRunner(service, feature.due_work_tools)
    feature.add_due_work(phases.run_due)
    service.kick = phases.run_due
    feature.add_contribution_source(service.contributions)
    clock = feature.clock

    async def merge(conn: AsyncConnection, from_account: int, to_account: int, /) -> None:
        await merge_accounts(conn, from_account, to_account, clock.now())
        service.claims.invalidate()

    feature.add_account_merger(merge)

    def changed(data: dict[str, object]) -> None:
        drop_id = data.get("id")
        service.claims.refresh(drop_id if isinstance(drop_id, int) else None, bool(data.get("r")))

    # What another process changed (a lapse, a promotion, an F-code, …): read it again; after
    # the feed reconnects, every drop (messages may have been missed).
    feature.changes.subscribe(DROP_TOPIC, changed)
    feature.changes.on_resync(lambda: service.claims.refresh(None))
    feature.on_shutdown(service.claims.close)
    feature.on_shutdown(service.reserving.close)
    commands.register(feature)
    admin.register(feature)
