"""Participation: points derived from every loop's contributions, profiles, leaderboards, tiers.

Cogs whose actions earn points register a contribution source (bot.core.contributions); this cog
keeps a ledger of them in step (scheduler tick, and before answering), ranks members, applies
tiers and serves as the `ScoreProvider` for drop eligibility.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.contributions import ScoreProvider
from cogs.participation import admin, commands, rules
from cogs.participation.service import ParticipationService
from storage.participation.ledger import merge_participation_accounts

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from bot.core.app import App


def setup(app: App) -> None:
    service = ParticipationService(app)
    app.services.add(service)
    app.services.add(service, as_type=ScoreProvider)
    rules.declare(app)
    commands.register(app)
    admin.register(app)
    app.due_work.append(service.run_due)

    async def merge_accounts(conn: AsyncConnection, from_id: int, to_id: int) -> None:
        await merge_participation_accounts(conn, from_id, to_id, app.clock.now())

    app.account_mergers.append(merge_accounts)
