"""Tiers: owners name them with a points threshold and an optional platform role; members hold the
highest tier their all-time points reach. On a change fanloop takes back the old role, grants the
new one (platforms with roles apply it; others have none) and announces promotions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.clock import Clock
from bot.core.errors import UserError
from bot.core.i18n import Translator
from bot.core.outbox import Outbox
from cogs.participation import views
from storage.core.identity import IdentityRepo
from storage.participation.ledger import LedgerRepo
from storage.participation.tiers import HeldTier, TierRow, TiersRepo

NO_ROLE = ("none", "-", "no", "无", "不要")
MAX_TIERS = 20


def tier_for(points: int, tiers: Iterable[TierRow]) -> TierRow | None:
    """The highest tier whose threshold the points reach."""
    best: TierRow | None = None
    for t in tiers:
        if points >= t.threshold and (best is None or t.threshold > best.threshold):
            best = t
    return best


def next_tier(points: int, tiers: Iterable[TierRow]) -> TierRow | None:
    above = [t for t in tiers if t.threshold > points]
    return min(above, key=lambda t: t.threshold) if above else None


@dataclass(frozen=True)
class TierChange:
    account_id: int
    old: HeldTier | None
    new: TierRow | None
    promoted: bool


class TierManager:
    def __init__(
        self,
        ledger: LedgerRepo,
        repo: TiersRepo,
        clock: Clock,
        outbox: Outbox,
        translator: Translator,
        identity: IdentityRepo,
    ) -> None:
        self.ledger = ledger
        self.repo = repo
        self.clock = clock
        self.outbox = outbox
        self.translator = translator
        self.identity = identity

    async def evaluate(
        self, community_id: int, accounts: set[int] | None = None
    ) -> list[TierChange]:
        """Bring members' tiers (and roles) in line with their points: `accounts`, or everyone."""
        tiers = await self.repo.tiers(community_id)
        if accounts is None:
            accounts = await self.ledger.accounts(community_id)
            held_rows = await self.repo.held(community_id)
        else:
            held_rows = await self.repo.held(community_id, accounts)
        held = {h.account_id: h for h in held_rows}
        if not tiers and not held:
            return []
        totals = {
            t.account_id: t.points
            for t in await self.ledger.totals(community_id, account_ids=sorted(accounts))
        }
        by_name = {t.name: t for t in tiers}
        now = self.clock.now()
        changes: list[TierChange] = []
        for account in sorted(accounts):
            want = tier_for(totals.get(account, 0), tiers)
            have = held.get(account)
            if _same(have, want):
                continue
            if not await self.repo.move(community_id, account, have, want, now):
                continue  # changed concurrently: that change carries the side effects
            before = by_name.get(have.tier) if have else None
            promoted = want is not None and (
                have is None or (before is not None and want.threshold > before.threshold)
            )
            changes.append(TierChange(account, have, want, promoted))
            old_role = have.role if have else None
            new_role = want.role if want else None
            if old_role != new_role:
                if old_role:
                    await self.outbox.role_change(community_id, account, old_role, False)
                if new_role:
                    await self.outbox.role_change(community_id, account, new_role, True)
        promotions = [c for c in changes if c.promoted and c.new is not None]
        if promotions:
            names = await self.identity.display_names([c.account_id for c in promotions])
            lines = [
                (names.get(c.account_id, "?"), c.new.name, c.new.threshold)
                for c in promotions
                if c.new is not None
            ]
            await self.outbox.announce(
                community_id, views.render_promotions(self.translator, lines)
            )
        return changes

    # -- owners' changes ---------------------------------------------------------------------

    async def put(
        self, community_id: int, name: str, threshold: int, role: str | None
    ) -> tuple[TierRow, bool]:
        """Create or change a tier (names match case-insensitively). Returns (tier, created)."""
        name = " ".join(name.split())
        if not name or len(name) > 40:
            raise UserError("tier.bad_name")
        role = _role(role, name)
        tiers = await self.repo.tiers(community_id)
        same_name = next((t for t in tiers if t.name.casefold() == name.casefold()), None)
        if same_name is not None:
            name = same_name.name
        elif len(tiers) >= MAX_TIERS:
            raise UserError("tier.too_many", max=MAX_TIERS)
        clash = next((t for t in tiers if t.threshold == threshold and t.name != name), None)
        if clash is not None:
            raise UserError("tier.threshold_taken", points=threshold, name=clash.name)
        created = await self.repo.put(community_id, name, threshold, role)
        return TierRow(name, threshold, role), created

    async def find(self, community_id: int, name: str) -> TierRow:
        wanted = " ".join(name.split()).casefold()
        for t in await self.repo.tiers(community_id):
            if t.name.casefold() == wanted:
                return t
        raise UserError("tier.unknown", name=name)

    async def remove(self, community_id: int, name: str) -> TierRow:
        tier = await self.find(community_id, name)
        await self.repo.remove(community_id, tier.name)
        return tier


def _same(have: HeldTier | None, want: TierRow | None) -> bool:
    if have is None or want is None:
        return have is None and want is None
    return have.tier == want.name and have.role == want.role


def _role(role: str | None, name: str) -> str | None:
    """The platform role for a tier: the tier's own name unless told otherwise; "none" for none."""
    if role is None:
        return name
    role = role.strip().lstrip("@")
    if not role or role.casefold() in NO_ROLE:
        return None
    if len(role) > 100:
        raise UserError("tier.bad_role")
    return role
