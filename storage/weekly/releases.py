"""Releases: what shipped in a version, item by item. Their four-grid reports are in
`storage.weekly.reports`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.core.schema import communities
from storage.util import new_id
from storage.weekly.schema import release_items, releases


@dataclass(frozen=True)
class ReleaseRow:
    id: int
    community_id: int
    version: str
    released_on: date
    created_by: int
    created_at: datetime
    announced_at: datetime | None


@dataclass(frozen=True)
class ItemRow:
    id: int
    release_id: int
    position: int
    suggestion_id: int | None
    title: str


class VersionTaken(Exception):
    """The community already has a release with that version name."""


def _release(m: Any) -> ReleaseRow:
    return ReleaseRow(
        m["id"],
        m["community_id"],
        m["version"],
        m["released_on"],
        m["created_by"],
        m["created_at"],
        m["announced_at"],
    )


def _item(m: Any) -> ItemRow:
    return ItemRow(m["id"], m["release_id"], m["position"], m["suggestion_id"], m["title"])


class ReleaseRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create(
        self,
        community_id: int,
        version: str,
        released_on: date,
        items: Sequence[tuple[int | None, str]],
        actor: int,
        now: datetime,
    ) -> ReleaseRow:
        """Record a release and its items in one transaction; VersionTaken when it exists."""
        try:
            async with self.engine.begin() as conn:
                res = await conn.execute(
                    insert(releases).values(
                        community_id=community_id,
                        version=version,
                        released_on=released_on,
                        created_by=actor,
                        created_at=now,
                    )
                )
                rid = new_id(res)
                await conn.execute(
                    insert(release_items),
                    [
                        {"release_id": rid, "position": i, "suggestion_id": sid, "title": title}
                        for i, (sid, title) in enumerate(items)
                    ],
                )
        except IntegrityError:
            raise VersionTaken(version) from None
        row = await self.get(community_id, rid)
        assert row is not None
        return row

    async def get(self, community_id: int, release_id: int) -> ReleaseRow | None:
        async with self.engine.connect() as conn:
            r = await conn.execute(
                select(releases).where(
                    releases.c.id == release_id,
                    releases.c.community_id == community_id,
                    releases.c.deleted_at.is_(None),
                )
            )
            m = r.mappings().first()
            return _release(m) if m else None

    async def by_version(self, community_id: int, version: str) -> ReleaseRow | None:
        async with self.engine.connect() as conn:
            r = await conn.execute(
                select(releases).where(
                    releases.c.community_id == community_id,
                    func.lower(releases.c.version) == version.lower(),
                    releases.c.deleted_at.is_(None),
                )
            )
            m = r.mappings().first()
            return _release(m) if m else None

    async def latest(self, community_id: int) -> ReleaseRow | None:
        rows = await self.recent(community_id, 1)
        return rows[0] if rows else None

    async def recent(self, community_id: int, limit: int = 10) -> list[ReleaseRow]:
        async with self.engine.connect() as conn:
            r = await conn.execute(
                select(releases)
                .where(releases.c.community_id == community_id, releases.c.deleted_at.is_(None))
                .order_by(releases.c.created_at.desc(), releases.c.id.desc())
                .limit(limit)
            )
            return [_release(m) for m in r.mappings()]

    async def items(self, release_id: int) -> list[ItemRow]:
        async with self.engine.connect() as conn:
            r = await conn.execute(
                select(release_items)
                .where(release_items.c.release_id == release_id)
                .order_by(release_items.c.position)
            )
            return [_item(m) for m in r.mappings()]

    async def change(
        self,
        release_id: int,
        version: str | None,
        items: Sequence[tuple[int | None, str]] | None,
    ) -> None:
        """A corrected release: a new version name, new items (replacing the old), or both.
        VersionTaken when another release has that name."""
        try:
            async with self.engine.begin() as conn:
                if version is not None:
                    await conn.execute(
                        update(releases).where(releases.c.id == release_id).values(version=version)
                    )
                if items is not None:
                    await conn.execute(
                        delete(release_items).where(release_items.c.release_id == release_id)
                    )
                    await conn.execute(
                        insert(release_items),
                        [
                            {
                                "release_id": release_id,
                                "position": i,
                                "suggestion_id": sid,
                                "title": title,
                            }
                            for i, (sid, title) in enumerate(items)
                        ],
                    )
        except IntegrityError:
            raise VersionTaken(version or "") from None

    async def delete(self, release_id: int, now: datetime) -> None:
        """Take a release off the changelog. The row stays (see `deleted_at`), under a version
        name of its own, so that the name can be recorded again."""
        async with self.engine.begin() as conn:
            version = (
                await conn.execute(select(releases.c.version).where(releases.c.id == release_id))
            ).scalar_one()
            await conn.execute(
                update(releases)
                .where(releases.c.id == release_id)
                .values(deleted_at=now, version=f"{version[:40]} (deleted #{release_id})")
            )

    async def shipping(self, community_id: int, suggestion_id: int) -> list[ReleaseRow]:
        """The releases that list `suggestion_id` among their items, oldest first."""
        q = (
            select(releases)
            .join(release_items, release_items.c.release_id == releases.c.id)
            .where(
                releases.c.community_id == community_id,
                release_items.c.suggestion_id == suggestion_id,
                releases.c.deleted_at.is_(None),
            )
            .order_by(releases.c.created_at, releases.c.id)
        )
        async with self.engine.connect() as conn:
            return [_release(m) for m in (await conn.execute(q)).mappings()]

    async def items_of(self, release_ids: Sequence[int]) -> dict[int, list[ItemRow]]:
        """The items of several releases at once, each release's in order."""
        out: dict[int, list[ItemRow]] = {rid: [] for rid in release_ids}
        if not release_ids:
            return out
        q = (
            select(release_items)
            .where(release_items.c.release_id.in_(list(release_ids)))
            .order_by(release_items.c.release_id, release_items.c.position)
        )
        async with self.engine.connect() as conn:
            for m in (await conn.execute(q)).mappings():
                out[m["release_id"]].append(_item(m))
        return out

    async def unannounced(self) -> list[ReleaseRow]:
        async with self.engine.connect() as conn:
            r = await conn.execute(
                select(releases)
                .where(releases.c.announced_at.is_(None), releases.c.deleted_at.is_(None))
                .order_by(releases.c.id)
            )
            return [_release(m) for m in r.mappings()]

    async def mark_announced(self, release_id: int, now: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(releases).where(releases.c.id == release_id).values(announced_at=now)
            )

    async def community_ids(self) -> list[int]:
        async with self.engine.connect() as conn:
            r = await conn.execute(select(communities.c.id).order_by(communities.c.id))
            return [int(x) for x in r.scalars()]
