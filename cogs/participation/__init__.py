"""Participation: points derived from every loop's contributions, profiles, leaderboards, tiers.

Cogs whose actions earn points register a contribution source (bot.core.participation); this cog
keeps a ledger of them in step (scheduler tick, and before answering), ranks members, applies
tiers and serves as the `ScoreProvider` for drop eligibility.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.feature import FeatureSetup
from bot.core.participation import ScoreProvider
from cogs.participation import admin, commands, rules
from cogs.participation.service import ParticipationService
from storage.participation.ledger import merge_participation_accounts


def setup(feature: FeatureSetup) -> None:
    service = ParticipationService(
        feature.engine,
        feature.clock,
        feature.jobs,
        feature.settings,
        feature.services,
        sources=feature.contribution_sources,
        outbox=feature.outbox,
        translator=feature.translator,
        identity=feature.identity,
    )
    feature.services.add(service)
    feature.services.add(service, as_type=ScoreProvider)
    rules.declare(feature.settings)
    commands.register(feature)
    admin.register(feature)
    feature.add_due_work(service.run_due)
    clock = feature.clock

    async def merge_accounts(conn: AsyncConnection, from_id: int, to_id: int, /) -> None:
        await merge_participation_accounts(conn, from_id, to_id, clock.now())

    feature.add_account_merger(merge_accounts)
