"""Accounts and their platform identities; communities and the platform spaces they span."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    String,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.change_feed import publish
from storage.core.schema import accounts, communities, identities, members, spaces
from storage.growth import Growth
from storage.types import UTCDateTime
from storage.util import insert_ignore, new_id


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


def _resolve_query() -> Select[Any]:
    """One row, always: the identity with its account, the space with its community, and the
    membership of the one in the other; NULLs for what does not exist. Built once."""
    platform = bindparam("platform", type_=String)
    user_id = bindparam("user_id", type_=String)
    space_id = bindparam("space_id", type_=String)
    one = select(literal(1).label("one")).subquery()
    return select(
        identities.c.account_id,
        identities.c.display_name,
        accounts.c.locale,
        spaces.c.community_id,
        communities.c.name.label("community_name"),
        members.c.last_seen_at,
    ).select_from(
        one.outerjoin(
            identities,
            and_(identities.c.platform == platform, identities.c.platform_user_id == user_id),
        )
        .outerjoin(accounts, accounts.c.id == identities.c.account_id)
        .outerjoin(spaces, and_(spaces.c.platform == platform, spaces.c.space_id == space_id))
        .outerjoin(communities, communities.c.id == spaces.c.community_id)
        .outerjoin(
            members,
            and_(
                members.c.community_id == spaces.c.community_id,
                members.c.account_id == identities.c.account_id,
            ),
        )
    )


_RESOLVE = _resolve_query()
_MARK_SEEN = (
    update(members)
    .where(
        members.c.community_id == bindparam("cid"),
        members.c.account_id == bindparam("aid"),
        members.c.last_seen_at < bindparam("at", type_=UTCDateTime),
    )
    .values(last_seen_at=bindparam("at", type_=UTCDateTime))
)


@dataclass(frozen=True)
class Arrival:
    """One member acting in one place, for `IdentityRepo.create_many`."""

    platform: str
    user_id: str
    display_name: str
    space_id: str
    space_name: str
    now: datetime


@dataclass(frozen=True)
class IdentityChange:
    """What a write changed, for the readers that keep identities in memory: these accounts
    (their identities, language, memberships), and this platform space (its community)."""

    accounts: tuple[int, ...] = ()
    space: tuple[str, str] | None = None  # (platform, space id)

    def message(self) -> dict[str, Any]:
        """The change as a change-feed message (storage/change_feed.py)."""
        return {"a": list(self.accounts), "s": list(self.space) if self.space else None}

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> IdentityChange:
        space = data.get("s")
        accounts = tuple(int(a) for a in data.get("a") or ())
        return cls(accounts, (str(space[0]), str(space[1])) if space else None)


#: The change-feed topic of identity changes.
TOPIC = "identity"


async def publish_change(conn: AsyncConnection, change: IdentityChange) -> None:
    """Tell the other processes, when this transaction commits, what it changes."""
    await publish(conn, TOPIC, change.message())


class IdentityRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._growth = Growth.of(engine)
        # Called after each write below commits (see `changed`).
        self.listeners: list[Callable[[IdentityChange], None]] = []

    def changed(self, change: IdentityChange) -> None:
        """Tell the listeners (the process's identity cache) that accounts or a space changed.
        The writes of this repository call it after they commit; code that writes these tables
        elsewhere calls it too, and publishes the change in its transaction (`publish_change`)
        for the other processes, whose change feed calls this in turn."""
        for listener in self.listeners:
            listener(change)

    async def merge_accounts(
        self,
        from_id: int,
        to_id: int,
        mergers: Sequence[Callable[[AsyncConnection, int, int], Awaitable[None]]] = (),
    ) -> None:
        """Merge one account into another in one transaction: the core rows, then each
        feature's rows through its merger (connection, from account, to account)."""
        async with self.engine.begin() as conn:
            await merge_core_accounts(conn, from_id, to_id)
            for merger in mergers:
                await merger(conn, from_id, to_id)
            change = IdentityChange(accounts=(from_id, to_id))
            await publish_change(conn, change)
        self.changed(change)

    async def move_space(self, platform: str, space_id: str, community_id: int) -> int | None:
        """Re-point a platform space at another community; returns the community it left."""
        async with self.engine.begin() as conn:
            left = await move_space(conn, platform, space_id, community_id)
            change = IdentityChange(space=(platform, space_id))
            await publish_change(conn, change)
        self.changed(change)
        return left

    async def account_for(
        self, platform: str, user_id: str, display_name: str, now: datetime
    ) -> IdentityRow:
        """The identity (platform, user id), created with a new account on first sight."""
        async with self.engine.begin() as conn:
            ident = (await _identity(conn, platform, user_id, display_name, now))[0]
            change = IdentityChange(accounts=(ident.account_id,))
            await publish_change(conn, change)
        self.changed(change)
        return ident

    async def resolve(
        self,
        platform: str,
        user_id: str,
        display_name: str,
        space_id: str,
        space_name: str,
        now: datetime,
        *,
        seen_every: timedelta,
    ) -> Resolved:
        """Who acts and where, in one transaction: the identity's account (created on first
        sight), the community of the space (created on first sight) and the membership (created,
        or its `last_seen_at` moved when older than `seen_every`).

        A known member in a known space costs one SELECT. Nothing is kept in memory here; the
        App keeps what this returns for a short while (bot/core/identity_cache.py), and creates
        the members waiting together (`create_many`); this is its fallback when a batch fails,
        and the one-transaction-per-member reference the tests and `bench votes` compare with."""
        async with self.engine.begin() as conn:
            params = {"platform": platform, "user_id": user_id, "space_id": space_id}
            r = (await conn.execute(_RESOLVE, params)).one()
            if r.account_id is None:
                ident, created = await _identity(
                    conn, platform, user_id, display_name, now, look_first=False
                )
                locale = None if created else (await _account(conn, ident.account_id)).locale
            else:
                if display_name and r.display_name != display_name:
                    await conn.execute(
                        update(identities)
                        .where(
                            identities.c.platform == platform,
                            identities.c.platform_user_id == user_id,
                        )
                        .values(display_name=display_name[:128])
                    )
                name = display_name or r.display_name
                ident = IdentityRow(platform, user_id, int(r.account_id), name)
                locale = r.locale
            if r.community_id is None:
                cid, cname = await _community(
                    conn, platform, space_id, space_name, now, look_first=False
                )
            else:
                cid, cname = int(r.community_id), str(r.community_name)
            # The membership row is only in the result when both the identity and the space were.
            last_seen = r.last_seen_at
            if last_seen is None:
                await _touch(conn, cid, ident.account_id, now, absent=True)
                last_seen = now
            elif now - last_seen > seen_every:
                await _touch(conn, cid, ident.account_id, now)
                last_seen = now
            return Resolved(ident, locale, cid, cname, last_seen)

    async def create_many(self, arrivals: Sequence[Arrival]) -> list[Resolved]:
        """Who acts and where for many members at once, in one transaction: the identities and
        accounts (created on first sight, renamed when the display name changed), the
        communities of the spaces (created on first sight) and the memberships (created).
        Returns one `Resolved` per arrival, in order.

        Set-based: one SELECT of the identities already there, one multi-row INSERT of the
        accounts and one of the identities (`ON CONFLICT DO NOTHING`, so an identity another
        transaction created first is kept, and this one's spare accounts are deleted and the
        winner read back), one multi-row INSERT of the memberships (the same). A new space
        costs a few statements of its own; a renamed identity one UPDATE for all of them.

        An existing membership's `last_seen_at` is returned as it is, not moved: the caller
        moves it when due (the identity cache queues it)."""
        if not arrivals:
            return []
        async with self.engine.begin() as conn:
            resolved, added = await _create_many(conn, arrivals)
        if self._growth is not None:
            # A burst of new members grows the tables other rows are checked against.
            await self._growth.added(added)
        return resolved

    async def known(
        self, wanted: Sequence[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], Resolved]:
        """Who acts and where, for many (platform, user id, space id) at once, in three SELECTs
        on one connection: only the ones whose identity, space and membership all exist (the
        others are for `create_many`, which creates what is missing). Writes nothing."""
        if not wanted:
            return {}
        users = sorted({(p, u) for p, u, _ in wanted})
        places = sorted({(p, sp) for p, _, sp in wanted})
        async with self.engine.connect() as conn:
            who = {
                (r.platform, r.platform_user_id): r
                for chunk in _chunks(users)
                for r in await conn.execute(
                    select(
                        identities.c.platform,
                        identities.c.platform_user_id,
                        identities.c.account_id,
                        identities.c.display_name,
                        accounts.c.locale,
                    )
                    .join(accounts, accounts.c.id == identities.c.account_id)
                    .where(
                        _pairs_in(conn, identities.c.platform, identities.c.platform_user_id, chunk)
                    )
                )
            }
            where = {
                (r.platform, r.space_id): r
                for chunk in _chunks(places)
                for r in await conn.execute(
                    select(
                        spaces.c.platform,
                        spaces.c.space_id,
                        spaces.c.community_id,
                        communities.c.name,
                    )
                    .join(communities, communities.c.id == spaces.c.community_id)
                    .where(_pairs_in(conn, spaces.c.platform, spaces.c.space_id, chunk))
                )
            }
            pairs = sorted(
                {
                    (int(where[(p, sp)].community_id), int(who[(p, u)].account_id))
                    for p, u, sp in wanted
                    if (p, u) in who and (p, sp) in where
                }
            )
            seen = {
                (int(r.community_id), int(r.account_id)): r.last_seen_at
                for chunk in _chunks(pairs)
                for r in await conn.execute(
                    select(
                        members.c.community_id, members.c.account_id, members.c.last_seen_at
                    ).where(_pairs_in(conn, members.c.community_id, members.c.account_id, chunk))
                )
            }
        out: dict[tuple[str, str, str], Resolved] = {}
        for key in wanted:
            p, u, sp = key
            i, s = who.get((p, u)), where.get((p, sp))
            if i is None or s is None:
                continue
            cid, aid = int(s.community_id), int(i.account_id)
            last_seen = seen.get((cid, aid))
            if last_seen is None:
                continue
            ident = IdentityRow(p, u, aid, str(i.display_name))
            out[key] = Resolved(ident, i.locale, cid, str(s.name), last_seen)
        return out

    async def account(self, account_id: int) -> AccountRow:
        async with self.engine.connect() as conn:
            return await _account(conn, account_id)

    async def set_account(self, account_id: int, **values: object) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(accounts).where(accounts.c.id == account_id).values(**values))
            change = IdentityChange(accounts=(account_id,))
            await publish_change(conn, change)
        self.changed(change)

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
        async with self.engine.begin() as conn:
            return await _community(conn, platform, space_id, name, now)

    async def community_names(self, community_ids: Sequence[int]) -> dict[int, str]:
        if not community_ids:
            return {}
        q = select(communities.c.id, communities.c.name).where(
            communities.c.id.in_(list(community_ids))
        )
        async with self.engine.connect() as conn:
            return {int(r.id): str(r.name) for r in await conn.execute(q)}

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
            await _touch(conn, community_id, account_id, now)

    async def mark_seen(self, seen: Sequence[tuple[int, int, datetime]]) -> None:
        """Move `last_seen_at` of many memberships, (community, account, when) each, in one
        transaction and one statement (never back in time)."""
        if not seen:
            return
        rows = [{"cid": c, "aid": a, "at": at} for c, a, at in seen]
        async with self.engine.begin() as conn:
            await conn.execute(_MARK_SEEN, rows)

    async def joined_at(self, community_id: int, account_id: int) -> datetime | None:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    select(members.c.joined_at).where(
                        members.c.community_id == community_id, members.c.account_id == account_id
                    )
                )
            ).scalar()


def _pairs_in(
    conn: AsyncConnection, first: Any, second: Any, pairs: Sequence[tuple[Any, Any]]
) -> Any:
    """`(first, second) IN pairs`, in a form whose cost does not grow with the table.

    PostgreSQL: against `unnest` of two array parameters, so the statement's text is the same
    for any number of pairs (one prepared statement) and its plan stays an index lookup per
    pair. A list of row values or `IN ($1, …, $400)` turns into a generic plan after a few
    executions that filters every row of the platform against the list (50 ms for 400 members
    among 5,000, growing with the table). SQLite: `first = x AND second IN (…)` per value of
    `first` (one platform or one community, nearly always)."""
    if conn.dialect.name == "postgresql":
        wanted = (
            func.unnest(
                literal([a for a, _ in pairs], ARRAY(first.type)),
                literal([b for _, b in pairs], ARRAY(second.type)),
            )
            .table_valued("a", "b")
            .render_derived()
        )
        return tuple_(first, second).in_(select(wanted.c.a, wanted.c.b))
    grouped: dict[Any, list[Any]] = {}
    for a, b in pairs:
        grouped.setdefault(a, []).append(b)
    return or_(*(and_(first == a, second.in_(bs)) for a, bs in grouped.items()))


def _chunks(items: Sequence[Any], size: int = 400) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


@dataclass(frozen=True)
class Resolved:
    """What `IdentityRepo.resolve` found: who (and their own language, if chosen), and where."""

    identity: IdentityRow
    locale: str | None
    community_id: int
    community_name: str
    last_seen_at: datetime | None = None  # the membership's, as it is after the resolve


def _insert_ignoring(conn: AsyncConnection, table: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING for the connection's database."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


_IDENTITY_COLUMNS = (
    identities.c.platform,
    identities.c.platform_user_id,
    identities.c.account_id,
    identities.c.display_name,
    accounts.c.locale,
)
_RENAME = (
    update(identities)
    .where(
        identities.c.platform == bindparam("p"),
        identities.c.platform_user_id == bindparam("u"),
    )
    .values(display_name=bindparam("name"))
)


async def _identities_of(
    conn: AsyncConnection, users: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Any]:
    """(platform, user id) → identity row with its account's language, for those that exist."""
    return {
        (r.platform, r.platform_user_id): r
        for chunk in _chunks(users)
        for r in await conn.execute(
            select(*_IDENTITY_COLUMNS)
            .join(accounts, accounts.c.id == identities.c.account_id)
            .where(_pairs_in(conn, identities.c.platform, identities.c.platform_user_id, chunk))
        )
    }


async def _create_many(
    conn: AsyncConnection, arrivals: Sequence[Arrival]
) -> tuple[list[Resolved], dict[str, int]]:
    """The members resolved, and the rows added to each table."""
    # What is wanted, each once, in one order (every process takes its row locks in the same
    # order, so two batches that overlap wait for each other rather than deadlock).
    names: dict[tuple[str, str], str] = {}  # the latest display name given, else ""
    first_seen: dict[tuple[str, str], datetime] = {}
    places: dict[tuple[str, str], Arrival] = {}
    for a in arrivals:
        user = (a.platform, a.user_id)
        if a.display_name or user not in names:
            names[user] = a.display_name
        first_seen.setdefault(user, a.now)
        places.setdefault((a.platform, a.space_id), a)
    users = sorted(names)

    # Spaces and their communities: new ones are rare (one each, the old way).
    where: dict[tuple[str, str], tuple[int, str]] = {}
    for chunk in _chunks(sorted(places)):
        for r in await conn.execute(
            select(spaces.c.platform, spaces.c.space_id, spaces.c.community_id, communities.c.name)
            .join(communities, communities.c.id == spaces.c.community_id)
            .where(_pairs_in(conn, spaces.c.platform, spaces.c.space_id, chunk))
        ):
            where[(r.platform, r.space_id)] = (int(r.community_id), str(r.name))
    for place in sorted(set(places) - set(where)):
        a = places[place]
        where[place] = await _community(
            conn, a.platform, a.space_id, a.space_name, a.now, look_first=False
        )

    # Identities: the ones there (renamed where the name changed), then the missing ones.
    who = await _identities_of(conn, users)
    renamed = [
        {"p": p, "u": u, "name": names[(p, u)][:128]}
        for (p, u), r in sorted(who.items())
        if names[(p, u)] and r.display_name != names[(p, u)][:128]
    ]
    if renamed:
        await conn.execute(_RENAME, renamed)
    missing = [user for user in users if user not in who]
    created: set[tuple[str, str]] = set()
    rows: list[dict[str, Any]] = []
    if missing:
        made = await conn.execute(
            insert(accounts).returning(accounts.c.id),
            [{"created_at": first_seen[user]} for user in missing],
        )
        # Accounts are alike until an identity points at one: any order will do.
        spare = {int(r.id) for r in made}
        rows = [
            {
                "platform": p,
                "platform_user_id": u,
                "account_id": aid,
                "display_name": (names[(p, u)] or u)[:128],
                "created_at": first_seen[(p, u)],
            }
            for (p, u), aid in zip(missing, sorted(spare), strict=True)
        ]
        won = await conn.execute(
            _insert_ignoring(conn, identities).returning(
                identities.c.platform, identities.c.platform_user_id, identities.c.account_id
            ),
            rows,
        )
        for r in won:
            created.add((r.platform, r.platform_user_id))
            spare.discard(int(r.account_id))
        if spare:  # another transaction created these identities first: theirs are kept
            await conn.execute(delete(accounts).where(accounts.c.id.in_(sorted(spare))))
            who |= await _identities_of(conn, [u for u in missing if u not in created])
    accounts_of: dict[tuple[str, str], tuple[int, str | None]] = {
        user: (int(r.account_id), r.locale) for user, r in who.items()
    }
    for row in rows:
        user = (row["platform"], row["platform_user_id"])
        if user in created:
            accounts_of[user] = (int(row["account_id"]), None)  # a new account: no language

    # Memberships: created where missing; the ones there are read for their last_seen_at.
    joined: dict[tuple[int, int], datetime] = {}
    for a in arrivals:
        pair = (where[(a.platform, a.space_id)][0], accounts_of[(a.platform, a.user_id)][0])
        joined.setdefault(pair, a.now)
    pairs = sorted(joined)
    made_members = await conn.execute(
        _insert_ignoring(conn, members).returning(members.c.community_id, members.c.account_id),
        [
            {"community_id": c, "account_id": aid, "joined_at": at, "last_seen_at": at}
            for (c, aid), at in sorted(joined.items())
        ],
    )
    seen: dict[tuple[int, int], datetime] = {}
    for m in made_members:
        pair = (int(m.community_id), int(m.account_id))
        seen[pair] = joined[pair]
    there = [pair for pair in pairs if pair not in seen]
    for chunk in _chunks(there):
        for s in await conn.execute(
            select(members.c.community_id, members.c.account_id, members.c.last_seen_at).where(
                _pairs_in(conn, members.c.community_id, members.c.account_id, chunk)
            )
        ):
            seen[(int(s.community_id), int(s.account_id))] = s.last_seen_at

    out = []
    for a in arrivals:
        user = (a.platform, a.user_id)
        cid, cname = where[(a.platform, a.space_id)]
        aid, locale = accounts_of[user]
        if a.display_name:
            name = a.display_name
        elif user in created:
            name = a.user_id
        else:
            name = str(who[user].display_name)
        out.append(
            Resolved(
                IdentityRow(a.platform, a.user_id, aid, name), locale, cid, cname, seen[(cid, aid)]
            )
        )
    joined_now = len(pairs) - len(there)
    return out, {"accounts": len(created), "identities": len(created), "members": joined_now}


async def _account(conn: AsyncConnection, account_id: int) -> AccountRow:
    row = (await conn.execute(select(accounts).where(accounts.c.id == account_id))).one()
    return AccountRow(row.id, row.locale, bool(row.notify))


async def _identity(
    conn: AsyncConnection,
    platform: str,
    user_id: str,
    display_name: str,
    now: datetime,
    *,
    look_first: bool = True,
) -> tuple[IdentityRow, bool]:
    """The identity (platform, user id), created with a new account on first sight; and whether
    it was created now. `look_first=False`: the caller has just seen that it does not exist."""
    for _ in range(3):
        if look_first:
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
                name = display_name or row.display_name
                return IdentityRow(platform, user_id, row.account_id, name), False
        look_first = True
        account_id = new_id(await conn.execute(insert(accounts).values(created_at=now)))
        made = await insert_ignore(
            conn,
            identities,
            {
                "platform": platform,
                "platform_user_id": user_id,
                "account_id": account_id,
                "display_name": (display_name or user_id)[:128],
                "created_at": now,
            },
        )
        if made:
            return IdentityRow(platform, user_id, account_id, display_name or user_id), True
        # Another process created it first: drop the spare account and read theirs.
        await conn.execute(delete(accounts).where(accounts.c.id == account_id))
    raise RuntimeError("could not create identity")


async def _community(
    conn: AsyncConnection,
    platform: str,
    space_id: str,
    name: str,
    now: datetime,
    *,
    look_first: bool = True,
) -> tuple[int, str]:
    """The community a platform space belongs to, created (named after it) on first sight."""
    for _ in range(3):
        if look_first:
            row = (
                await conn.execute(
                    select(communities.c.id, communities.c.name)
                    .join(spaces, spaces.c.community_id == communities.c.id)
                    .where(spaces.c.platform == platform, spaces.c.space_id == space_id)
                )
            ).first()
            if row is not None:
                return int(row.id), str(row.name)
        look_first = True
        res = await conn.execute(
            insert(communities).values(name=(name or space_id)[:128], created_at=now)
        )
        cid = new_id(res)
        made = await insert_ignore(
            conn,
            spaces,
            {"community_id": cid, "platform": platform, "space_id": space_id, "name": name[:128]},
        )
        if made:
            return cid, name or space_id
        # Another process created it first: drop the spare community and read theirs.
        await conn.execute(delete(communities).where(communities.c.id == cid))
    raise RuntimeError("could not create community")


async def _touch(
    conn: AsyncConnection,
    community_id: int,
    account_id: int,
    now: datetime,
    *,
    absent: bool = False,
) -> None:
    """Mark the member seen now; the first time, they join the community. `absent`: the caller
    has just seen that the membership does not exist."""
    row = {
        "community_id": community_id,
        "account_id": account_id,
        "joined_at": now,
        "last_seen_at": now,
    }
    if absent and await insert_ignore(conn, members, row):
        return
    res = await conn.execute(
        update(members)
        .where(members.c.community_id == community_id, members.c.account_id == account_id)
        .values(last_seen_at=now)
    )
    if res.rowcount == 0:
        await insert_ignore(conn, members, row)


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
    from storage.core.schema import one_time_codes, outbox

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
