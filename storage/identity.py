"""Accounts and their platform identities; communities and the platform spaces they span."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.schema.core import accounts, communities, identities, members, spaces
from storage.util import new_id


@dataclass(frozen=True)
class AccountRow:
    id: int
    locale: str | None
    notify: bool


@dataclass(frozen=True)
class IdentityRow:
    platform: str
    platform_user_id: str
    account_id: int
    display_name: str


@dataclass(frozen=True)
class SpaceRow:
    community_id: int
    platform: str
    space_id: str
    name: str
    announce_channel: str | None


class IdentityRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def account_for(
        self, platform: str, user_id: str, display_name: str, now: datetime
    ) -> IdentityRow:
        """The identity (platform, user id), created with a new account on first sight."""
        for _ in range(3):
            async with self.engine.begin() as conn:
                row = (
                    await conn.execute(
                        select(identities).where(
                            identities.c.platform == platform,
                            identities.c.platform_user_id == user_id,
                        )
                    )
                ).first()
                if row is not None:
                    if display_name and row.display_name != display_name:
                        await conn.execute(
                            update(identities)
                            .where(identities.c.id == row.id)
                            .values(display_name=display_name[:128])
                        )
                    return IdentityRow(
                        platform, user_id, row.account_id, display_name or row.display_name
                    )
                try:
                    async with conn.begin_nested():
                        acc = await conn.execute(insert(accounts).values(created_at=now))
                        account_id = new_id(acc)
                        await conn.execute(
                            insert(identities).values(
                                platform=platform,
                                platform_user_id=user_id,
                                account_id=account_id,
                                display_name=(display_name or user_id)[:128],
                                created_at=now,
                            )
                        )
                except IntegrityError:
                    continue  # another process created it first: read it again
                return IdentityRow(platform, user_id, account_id, display_name or user_id)
        raise RuntimeError("could not create identity")

    async def account(self, account_id: int) -> AccountRow:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(accounts).where(accounts.c.id == account_id))).one()
            return AccountRow(row.id, row.locale, bool(row.notify))

    async def set_account(self, account_id: int, **values: object) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(accounts).where(accounts.c.id == account_id).values(**values))

    async def identities_of(self, account_id: int) -> list[IdentityRow]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(identities)
                .where(identities.c.account_id == account_id)
                .order_by(identities.c.id)
            )
            return [
                IdentityRow(r.platform, r.platform_user_id, r.account_id, r.display_name)
                for r in rows
            ]

    async def display_names(self, account_ids: list[int]) -> dict[int, str]:
        if not account_ids:
            return {}
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(identities.c.account_id, identities.c.display_name)
                .where(identities.c.account_id.in_(account_ids))
                .order_by(identities.c.id)
            )
            out: dict[int, str] = {}
            for r in rows:
                out.setdefault(r.account_id, r.display_name)
            return out

    async def find_by_name(self, community_id: int, name: str) -> int | None:
        """A member of the community by display name (case-insensitive), for text platforms."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(identities.c.account_id, identities.c.display_name)
                .join(members, members.c.account_id == identities.c.account_id)
                .where(members.c.community_id == community_id)
            )
            wanted = name.strip().lstrip("@").casefold()
            for r in rows:
                if r.display_name.casefold() == wanted:
                    return int(r.account_id)
            return None

    # -- communities and spaces -------------------------------------------------------------

    async def community_for_space(
        self, platform: str, space_id: str, name: str, now: datetime
    ) -> tuple[int, str]:
        """The community a platform space belongs to, created (named after it) on first sight."""
        for _ in range(3):
            async with self.engine.begin() as conn:
                row = (
                    await conn.execute(
                        select(communities.c.id, communities.c.name)
                        .join(spaces, spaces.c.community_id == communities.c.id)
                        .where(spaces.c.platform == platform, spaces.c.space_id == space_id)
                    )
                ).first()
                if row is not None:
                    return int(row.id), str(row.name)
                try:
                    async with conn.begin_nested():
                        res = await conn.execute(
                            insert(communities).values(
                                name=(name or space_id)[:128], created_at=now
                            )
                        )
                        cid = new_id(res)
                        await conn.execute(
                            insert(spaces).values(
                                community_id=cid,
                                platform=platform,
                                space_id=space_id,
                                name=name[:128],
                            )
                        )
                except IntegrityError:
                    continue
                return cid, name or space_id
        raise RuntimeError("could not create community")

    async def spaces_of(self, community_id: int) -> list[SpaceRow]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(spaces).where(spaces.c.community_id == community_id).order_by(spaces.c.id)
            )
            return [
                SpaceRow(r.community_id, r.platform, r.space_id, r.name, r.announce_channel)
                for r in rows
            ]

    async def set_announce_channel(
        self, community_id: int, platform: str, channel: str | None
    ) -> bool:
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(spaces)
                .where(spaces.c.community_id == community_id, spaces.c.platform == platform)
                .values(announce_channel=channel)
            )
            return bool(res.rowcount)

    async def touch_member(self, community_id: int, account_id: int, now: datetime) -> None:
        async with self.engine.begin() as conn:
            await self._touch(conn, community_id, account_id, now)

    async def _touch(
        self, conn: AsyncConnection, community_id: int, account_id: int, now: datetime
    ) -> None:
        res = await conn.execute(
            update(members)
            .where(members.c.community_id == community_id, members.c.account_id == account_id)
            .values(last_seen_at=now)
        )
        if res.rowcount == 0:
            try:
                async with conn.begin_nested():
                    await conn.execute(
                        insert(members).values(
                            community_id=community_id,
                            account_id=account_id,
                            joined_at=now,
                            last_seen_at=now,
                        )
                    )
            except IntegrityError:
                pass

    async def joined_at(self, community_id: int, account_id: int) -> datetime | None:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    select(members.c.joined_at).where(
                        members.c.community_id == community_id, members.c.account_id == account_id
                    )
                )
            ).scalar()


@dataclass(frozen=True)
class Recipient:
    account_id: int
    locale: str | None
    notify: bool
    platform: str
    platform_user_id: str


async def recipients(
    engine: AsyncEngine, account_ids: list[int], platforms: list[str]
) -> list[Recipient]:
    """For each account, its first identity on one of `platforms` (in that order of preference)."""
    if not account_ids or not platforms:
        return []
    out: dict[int, Recipient] = {}
    rank = {p: i for i, p in enumerate(platforms)}
    async with engine.connect() as conn:
        for start in range(0, len(account_ids), 500):
            chunk = account_ids[start : start + 500]
            rows = await conn.execute(
                select(
                    accounts.c.id,
                    accounts.c.locale,
                    accounts.c.notify,
                    identities.c.platform,
                    identities.c.platform_user_id,
                )
                .join(identities, identities.c.account_id == accounts.c.id)
                .where(accounts.c.id.in_(chunk), identities.c.platform.in_(platforms))
                .order_by(identities.c.id)
            )
            for r in rows:
                current = out.get(r.id)
                if current is None or rank[r.platform] < rank[current.platform]:
                    out[r.id] = Recipient(
                        r.id, r.locale, bool(r.notify), r.platform, r.platform_user_id
                    )
    return [out[a] for a in account_ids if a in out]


async def merge_core_accounts(conn: AsyncConnection, from_id: int, to_id: int) -> None:
    """Move identities and community memberships of one account onto another."""
    from sqlalchemy import delete

    from storage.schema.core import one_time_codes, outbox

    await conn.execute(
        update(identities).where(identities.c.account_id == from_id).values(account_id=to_id)
    )
    theirs = await conn.execute(
        select(members.c.community_id, members.c.joined_at).where(members.c.account_id == from_id)
    )
    for r in theirs.all():
        mine = (
            await conn.execute(
                select(members.c.joined_at).where(
                    members.c.community_id == r.community_id, members.c.account_id == to_id
                )
            )
        ).first()
        if mine is None:
            await conn.execute(
                update(members)
                .where(members.c.community_id == r.community_id, members.c.account_id == from_id)
                .values(account_id=to_id)
            )
            continue
        if r.joined_at < mine.joined_at:  # the person joined when the earlier account did
            await conn.execute(
                update(members)
                .where(members.c.community_id == r.community_id, members.c.account_id == to_id)
                .values(joined_at=r.joined_at)
            )
        await conn.execute(
            delete(members).where(
                members.c.community_id == r.community_id, members.c.account_id == from_id
            )
        )
    await conn.execute(
        update(outbox).where(outbox.c.account_id == from_id).values(account_id=to_id)
    )
    await conn.execute(
        update(one_time_codes)
        .where(one_time_codes.c.account_id == from_id)
        .values(account_id=to_id)
    )


async def move_space(
    conn: AsyncConnection, platform: str, space_id: str, community_id: int
) -> int | None:
    """Re-point a platform space at another community; returns the community it left."""
    row = (
        await conn.execute(
            select(spaces.c.community_id).where(
                spaces.c.platform == platform, spaces.c.space_id == space_id
            )
        )
    ).first()
    if row is None:
        return None
    await conn.execute(
        update(spaces)
        .where(spaces.c.platform == platform, spaces.c.space_id == space_id)
        .values(community_id=community_id)
    )
    return int(row.community_id)
