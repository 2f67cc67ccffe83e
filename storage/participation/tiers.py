"""Tiers owners define (name, points threshold, platform role) and the tier each member holds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.participation.schema import participation_tier_members as members
from storage.participation.schema import participation_tiers as tiers
from storage.util import insert_ignore

CHUNK = 500


@dataclass(frozen=True)
class TierRow:
    name: str
    threshold: int
    role: str | None


@dataclass(frozen=True)
class HeldTier:
    account_id: int
    tier: str
    role: str | None
    since: datetime


class TiersRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def tiers(self, community_id: int) -> list[TierRow]:
        """The community's tiers, lowest threshold first."""
        async with self.engine.connect() as conn:
            res = await conn.execute(
                select(tiers.c.name, tiers.c.threshold, tiers.c.role)
                .where(tiers.c.community_id == community_id)
                .order_by(tiers.c.threshold)
            )
            return [TierRow(str(r.name), int(r.threshold), r.role) for r in res]

    async def put(self, community_id: int, name: str, threshold: int, role: str | None) -> bool:
        """Create or change a tier; True when it is new."""
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(tiers)
                .where(tiers.c.community_id == community_id, tiers.c.name == name)
                .values(threshold=threshold, role=role)
            )
            if res.rowcount:
                return False
            await conn.execute(
                tiers.insert().values(
                    community_id=community_id, name=name, threshold=threshold, role=role
                )
            )
            return True

    async def remove(self, community_id: int, name: str) -> bool:
        async with self.engine.begin() as conn:
            res = await conn.execute(
                delete(tiers).where(tiers.c.community_id == community_id, tiers.c.name == name)
            )
            return bool(res.rowcount)

    # -- who holds which tier ----------------------------------------------------------------

    async def held(
        self, community_id: int, account_ids: Iterable[int] | None = None
    ) -> list[HeldTier]:
        """Who holds a tier (everyone, or among `account_ids`)."""
        q = select(members).where(members.c.community_id == community_id)
        out: list[HeldTier] = []
        async with self.engine.connect() as conn:
            if account_ids is None:
                batches = [q]
            else:
                ids = sorted(set(account_ids))
                batches = [
                    q.where(members.c.account_id.in_(ids[i : i + CHUNK]))
                    for i in range(0, len(ids), CHUNK)
                ]
            for batch in batches:
                res = await conn.execute(batch)
                out.extend(HeldTier(int(r.account_id), str(r.tier), r.role, r.since) for r in res)
        return out

    async def holders(self, community_id: int, tier: str) -> list[HeldTier]:
        async with self.engine.connect() as conn:
            res = await conn.execute(
                select(members)
                .where(members.c.community_id == community_id, members.c.tier == tier)
                .order_by(members.c.since, members.c.account_id)
            )
            return [HeldTier(int(r.account_id), str(r.tier), r.role, r.since) for r in res]

    async def counts(self, community_id: int) -> dict[str, int]:
        async with self.engine.connect() as conn:
            res = await conn.execute(
                select(members.c.tier, func.count().label("n"))
                .where(members.c.community_id == community_id)
                .group_by(members.c.tier)
            )
            return {str(r.tier): int(r.n) for r in res}

    async def move(
        self,
        community_id: int,
        account_id: int,
        old: HeldTier | None,
        new: TierRow | None,
        now: datetime,
    ) -> bool:
        """Change a member's tier from `old` (as read) to `new`; False when someone else changed
        it in between (then that change's side effects are theirs)."""
        async with self.engine.begin() as conn:
            if old is None:
                if new is None:
                    return False
                return bool(
                    await insert_ignore(
                        conn,
                        members,
                        {
                            "community_id": community_id,
                            "account_id": account_id,
                            "tier": new.name,
                            "role": new.role,
                            "since": now,
                        },
                    )
                )
            same = (
                members.c.community_id == community_id,
                members.c.account_id == account_id,
                members.c.tier == old.tier,
                members.c.role.is_(None) if old.role is None else members.c.role == old.role,
            )
            if new is None:
                res = await conn.execute(delete(members).where(*same))
            else:
                values: dict[str, object] = {"tier": new.name, "role": new.role}
                if new.name != old.tier:
                    values["since"] = now
                res = await conn.execute(update(members).where(*same).values(**values))
            return bool(res.rowcount)
