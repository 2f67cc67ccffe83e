"""The participation record of a community: points, standings, tiers, rewards.

Registered as the `ScoreProvider`, so drops can gate on points and tiers without importing this
cog. Every answer first syncs the ledger incrementally, so it includes the latest contributions.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.clock import Clock
from bot.core.errors import UserError
from bot.core.fcodes import FCodeIssuer
from bot.core.i18n import Translator
from bot.core.outbox import Outbox
from bot.core.participation import ContributionSource
from bot.core.scheduler import run_once
from bot.core.services import ServiceRegistry
from bot.core.settings import SettingsService
from cogs.participation.periods import Period, PeriodName, period
from cogs.participation.ranking import Ranked, rank
from cogs.participation.rules import Rules, load_rules
from cogs.participation.sync import RECONCILE_EVERY, LedgerSync, Recomputed
from cogs.participation.tiers import TierManager, next_tier, tier_for
from storage.core.identity import IdentityRepo
from storage.core.jobs import JobsRepo
from storage.participation.ledger import Grant, LedgerRepo
from storage.participation.tiers import HeldTier, TierRow, TiersRepo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Profile:
    account_id: int
    points: int
    rank: int | None
    members: int  # members with points, for "rank 3 of 40"
    week: int
    month: int
    breakdown: dict[str, tuple[int, int]]  # kind -> (contributions, points)
    tier: TierRow | None
    next_tier: TierRow | None
    # Points granted or deducted by hand: the latest few, how many in all, their sum.
    grants: list[Grant] = field(default_factory=list)
    grants_count: int = 0
    grants_total: int = 0


@dataclass(frozen=True)
class Standings:
    period: Period
    top: list[Ranked]
    ranked: int  # members with points in the period
    me: Ranked | None  # the member asked about, wherever they stand


@dataclass(frozen=True)
class Reward:
    period: Period
    chosen: list[Ranked]
    tied_out: int  # members left out with as many points as the last one chosen
    codes: dict[int, str]


class ParticipationService:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        jobs: JobsRepo,
        settings: SettingsService,
        services: ServiceRegistry,
        *,
        sources: Sequence[ContributionSource],
        outbox: Outbox,
        translator: Translator,
        identity: IdentityRepo,
    ) -> None:
        self.clock = clock
        self.jobs = jobs
        self.settings = settings
        self.services = services  # the drops cog's FCodeIssuer, when it is loaded
        self.ledger = LedgerRepo(engine)
        self.tiers_repo = TiersRepo(engine)
        self.syncer = LedgerSync(self.ledger, clock, settings, sources)
        self.tiers = TierManager(self.ledger, self.tiers_repo, clock, outbox, translator, identity)
        self._locks: dict[int, asyncio.Lock] = {}
        self._tickets = itertools.count()
        self._started: dict[int, int] = {}

    def _lock(self, community_id: int) -> asyncio.Lock:
        return self._locks.setdefault(community_id, asyncio.Lock())

    # -- keeping the ledger current ----------------------------------------------------------

    async def refresh(self, community_id: int) -> None:
        """Credit what happened since the last sync, and settle the tiers of those concerned.
        Callers that arrive while a sync runs share the next one: a burst of eligibility checks
        costs a few syncs, not one each."""
        arrived = next(self._tickets)
        async with self._lock(community_id):
            if self._started.get(community_id, -1) > arrived:
                return  # a sync that began after this call arrived has just finished
            self._started[community_id] = next(self._tickets)
            touched = await self.syncer.sync(community_id)
            if touched:
                await self.tiers.evaluate(community_id, touched)

    async def reconcile(self, community_id: int) -> None:
        async with self._lock(community_id):
            self._started[community_id] = next(self._tickets)
            await self.syncer.reconcile(community_id)
            await self.tiers.evaluate(community_id)

    async def recompute(self, community_id: int) -> Recomputed:
        """Rebuild the community's ledger from the sources under the current rules."""
        async with self._lock(community_id):
            self._started[community_id] = next(self._tickets)
            result = await self.syncer.recompute(community_id)
            await self.tiers.evaluate(community_id)
            return result

    async def run_due(self) -> None:
        """Scheduler tick: sync every community; reconcile those whose turn it is."""
        now = self.clock.now()
        for cid in await self.ledger.communities():
            try:
                if await self.ledger.claim_reconcile(cid, now, RECONCILE_EVERY):
                    await self.reconcile(cid)
                else:
                    await self.refresh(cid)
            except Exception:
                log.exception("participation sync of community %s failed", cid)

    # -- ScoreProvider -----------------------------------------------------------------------

    async def points(self, community_id: int, account_id: int) -> int:
        await self.refresh(community_id)
        totals = await self.ledger.totals(community_id, account_ids=[account_id])
        return totals[0].points if totals else 0

    async def tier(self, community_id: int, account_id: int) -> str | None:
        points = await self.points(community_id, account_id)
        held = tier_for(points, await self.tiers_repo.tiers(community_id))
        return held.name if held else None

    async def tier_names(self, community_id: int) -> list[str]:
        return [t.name for t in await self.tiers_repo.tiers(community_id)]

    # -- what members see --------------------------------------------------------------------

    async def rules(self, community_id: int) -> Rules:
        return await load_rules(self.settings, community_id)

    async def standings(
        self, community_id: int, name: str, account_id: int | None = None, limit: int = 10
    ) -> Standings:
        await self.refresh(community_id)
        tz = await self.settings.timezone(community_id)
        p = period(name, self.clock.now(), tz)
        top = rank(await self.ledger.leaders(community_id, p.start, p.end, limit))
        count = await self.ledger.ranked_count(community_id, p.start, p.end)
        me = None if account_id is None else await self._place(community_id, account_id, p)
        return Standings(p, top, count, me)

    async def _place(self, community_id: int, account_id: int, p: Period) -> Ranked | None:
        mine = await self.ledger.totals(community_id, p.start, p.end, [account_id])
        if not mine:
            return None
        above = await self.ledger.ranked_count(community_id, p.start, p.end, above=mine[0].points)
        return Ranked(above + 1, account_id, mine[0].points, mine[0].reached_at)

    async def profile(self, community_id: int, account_id: int) -> Profile:
        await self.refresh(community_id)
        tz = await self.settings.timezone(community_id)
        now = self.clock.now()
        me = await self._place(community_id, account_id, period(PeriodName.ALL, now, tz))
        points = me.points if me else 0
        week, month = period(PeriodName.WEEK, now, tz), period(PeriodName.MONTH, now, tz)
        mine = [account_id]
        week_total = await self.ledger.totals(community_id, week.start, week.end, mine)
        month_total = await self.ledger.totals(community_id, month.start, month.end, mine)
        tiers = await self.tiers_repo.tiers(community_id)
        latest, count, total = await self.ledger.grants_of(community_id, account_id)
        return Profile(
            account_id,
            points,
            me.rank if me else None,
            await self.ledger.ranked_count(community_id),
            week_total[0].points if week_total else 0,
            month_total[0].points if month_total else 0,
            await self.ledger.breakdown(community_id, account_id),
            tier_for(points, tiers),
            next_tier(points, tiers),
            latest,
            count,
            total,
        )

    # -- points by hand ----------------------------------------------------------------------

    async def grant(
        self, community_id: int, account_id: int, points: int, reason: str, actor: int
    ) -> int:
        """Grant (points > 0) or deduct (points < 0) points by hand, with a reason; the member's
        total after it. A deduction takes at most what the member has."""
        reason = reason.strip()
        if not reason:
            raise UserError("points.grant.no_reason")
        if points < 0:
            have = await self.points(community_id, account_id)
            if -points > have:
                raise UserError("points.deduct.too_many", points=-points, have=have)
        async with self._lock(community_id):
            await self.ledger.grant(
                community_id, account_id, points, reason, actor, self.clock.now()
            )
            await self.tiers.evaluate(community_id, {account_id})
        totals = await self.ledger.totals(community_id, account_ids=[account_id])
        return totals[0].points if totals else 0

    # -- tiers -------------------------------------------------------------------------------

    async def all_tiers(self, community_id: int) -> tuple[list[TierRow], dict[str, int]]:
        await self.refresh(community_id)
        return await self.tiers_repo.tiers(community_id), await self.tiers_repo.counts(community_id)

    async def set_tier(
        self, community_id: int, name: str, threshold: int, role: str | None
    ) -> tuple[TierRow, bool, int]:
        """Returns (tier, created, members now holding it)."""
        async with self._lock(community_id):
            await self.syncer.sync(community_id)
            tier, created = await self.tiers.put(community_id, name, threshold, role)
            await self.tiers.evaluate(community_id)
        return tier, created, len(await self.tiers_repo.holders(community_id, tier.name))

    async def remove_tier(self, community_id: int, name: str) -> tuple[TierRow, int]:
        """Returns (the removed tier, members who held it)."""
        async with self._lock(community_id):
            tier = await self.tiers.find(community_id, name)
            held = len(await self.tiers_repo.holders(community_id, tier.name))
            await self.tiers.remove(community_id, tier.name)
            await self.tiers.evaluate(community_id)
        return tier, held

    async def tier_members(self, community_id: int, name: str) -> tuple[TierRow, list[HeldTier]]:
        await self.refresh(community_id)
        tier = await self.tiers.find(community_id, name)
        return tier, await self.tiers_repo.holders(community_id, tier.name)

    # -- rewards -----------------------------------------------------------------------------

    async def reward(
        self, community_id: int, drop_id: int, n: int, period_name: str, actor: int
    ) -> Reward:
        """Give one F-code for the drop to each of the top `n` of the period (once per drop and
        period). The drops cog issues the codes; without it there are none to give."""
        issuer = self.services.find(FCodeIssuer)  # type: ignore[type-abstract]
        if issuer is None:
            raise UserError("points.reward.no_drops")
        board = await self.standings(community_id, period_name, limit=n)
        p, chosen = board.period, board.top
        if not chosen:
            raise UserError("points.reward.nobody")
        cut = chosen[-1].points
        same = await self.ledger.ranked_count(
            community_id, p.start, p.end, above=cut - 1
        ) - await self.ledger.ranked_count(community_id, p.start, p.end, above=cut)
        tied_out = same - sum(1 for r in chosen if r.points == cut)
        family = PeriodName(p.name).family
        key = f"points-reward:{community_id}:{drop_id}:{family}:{p.key}"
        accounts = [r.account_id for r in chosen]
        ran, codes = await run_once(
            self.jobs,
            key,
            self.clock.now(),
            lambda: issuer.issue_fcodes(community_id, drop_id, accounts, actor),
        )
        if not ran:
            raise UserError("points.reward.already", drop=drop_id)
        return Reward(p, chosen, tied_out, codes or {})
