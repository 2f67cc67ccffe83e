"""Who may reserve a drop: platform roles, time in the community, participation score and tier."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.participation import ScoreProvider
from storage.core.identity import IdentityRepo
from storage.drops.drops import DropRow


@dataclass(frozen=True)
class Verdict:
    ok: bool
    key: str = ""  # i18n key of the reason when not ok
    params: dict[str, object] | None = None


ELIGIBLE = Verdict(True)


def needs_scores(drop: DropRow) -> bool:
    return drop.min_score > 0 or bool(drop.tiers)


async def check(
    drop: DropRow,
    community_id: int,
    account_id: int,
    roles: Sequence[str] | None,
    now: datetime,
    identity: IdentityRepo,
    scores: ScoreProvider | None,
) -> Verdict:
    """`roles` are the member's platform roles (None where the platform has none)."""
    if drop.roles:
        wanted = {r.casefold() for r in drop.roles}
        if roles is None:
            return Verdict(False, "drop.ineligible.roles_unknown", {"roles": ", ".join(drop.roles)})
        if not wanted & {r.casefold() for r in roles}:
            return Verdict(False, "drop.ineligible.roles", {"roles": ", ".join(drop.roles)})
    if drop.min_days > 0:
        joined = await identity.joined_at(community_id, account_id)
        if joined is None or now - joined < timedelta(days=drop.min_days):
            days = 0 if joined is None else max(0, (now - joined).days)
            return Verdict(False, "drop.ineligible.days", {"days": drop.min_days, "have": days})
    if needs_scores(drop):
        if scores is None:
            return Verdict(False, "drop.ineligible.no_scores")
        if drop.min_score > 0:
            points = await scores.points(community_id, account_id)
            if points < drop.min_score:
                return Verdict(
                    False, "drop.ineligible.score", {"score": drop.min_score, "have": points}
                )
        if drop.tiers:
            tier = await scores.tier(community_id, account_id)
            if tier is None or tier.casefold() not in {t.casefold() for t in drop.tiers}:
                return Verdict(
                    False,
                    "drop.ineligible.tier",
                    {"tiers": ", ".join(drop.tiers), "have": tier or "—"},
                )
    return ELIGIBLE
