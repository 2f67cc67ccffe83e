"""Members seen for the first time are created together (one transaction for all those waiting)
and end exactly as if each had been created alone: one account per (platform, user id), one
community per space, one membership per member and community; also when the same members
arrive at once, and when two engines (or two processes) on one database create them at the same
moment. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from bot.core.context import Context
from config.settings import FanloopSettings
from storage.core.identity import Arrival
from storage.core.schema import accounts, communities, identities, members, spaces
from storage.engine import create_engine
from tests.conftest import PG_URL, make_engine
from tests.core.test_context import counting, last_seen
from tests.databases import sqlite_url
from tests.helpers import member

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("new_members_child.py")

PROPERTY = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_example = iter(range(10**9))

# One arrival: (platform, user, space, display name); "" is an event without a name.
arrivals = st.lists(
    st.tuples(
        st.sampled_from(("console", "telegram")),
        st.integers(0, 5),
        st.integers(0, 2),
        st.sampled_from(("", "Ann", "Bo")),
    ),
    min_size=1,
    max_size=30,
)


async def _arrive(app: App, platform: str, user: str, space: str, name: str) -> Context:
    return await app.context(
        platform=platform,
        space_id=space,
        space_name=space,
        user_id=user,
        display_name=name,
        role=Role.FAN,
    )


async def _state(engine: AsyncEngine, prefix: str) -> dict[str, Any]:
    """The rows of the users and spaces whose ids start with `prefix`, ids left out: which
    identities share an account, their names, the communities of the spaces and the
    memberships."""
    async with engine.connect() as conn:
        who = {
            (r.platform, r.platform_user_id.removeprefix(prefix)): (r.account_id, r.display_name)
            for r in await conn.execute(
                select(identities).where(identities.c.platform_user_id.startswith(prefix))
            )
        }
        where = {
            (r.platform, r.space_id.removeprefix(prefix)): r.community_id
            for r in await conn.execute(select(spaces).where(spaces.c.space_id.startswith(prefix)))
        }
        joined = {
            (r.community_id, r.account_id)
            for r in await conn.execute(
                select(members).where(
                    members.c.community_id.in_(list(where.values()) or [-1]),
                )
            )
        }
    account = {user: a for user, (a, _) in who.items()}
    community = dict(where)
    return {
        "users": sorted(who),
        "names": {user: name.removeprefix(prefix) for user, (_, name) in who.items()},
        "one_account_each": len(set(account.values())) == len(account),
        "one_community_each": len(set(community.values())) == len(community),
        "memberships": sorted(
            (user, place)
            for user, a in account.items()
            for place, c in community.items()
            if (c, a) in joined
        ),
        "other_memberships": len(joined)
        - len({(c, a) for a in account.values() for c in community.values()} & joined),
    }


async def _no_spare_rows(engine: AsyncEngine) -> None:
    """Every account has an identity and every community a space: a transaction that lost a
    race left nothing behind."""
    async with engine.connect() as conn:
        orphans = (
            await conn.execute(
                select(func.count())
                .select_from(accounts)
                .where(~accounts.c.id.in_(select(identities.c.account_id)))
            )
        ).scalar_one()
        empty = (
            await conn.execute(
                select(func.count())
                .select_from(communities)
                .where(~communities.c.id.in_(select(spaces.c.community_id)))
            )
        ).scalar_one()
    assert (orphans, empty) == (0, 0)


@PROPERTY
@given(sequence=arrivals)
async def test_created_together_ends_as_created_one_at_a_time(
    app: App, clock: FakeClock, sequence: list[tuple[str, int, int, str]]
) -> None:
    n = next(_example)
    alone, together = f"a{n}-", f"t{n}-"
    # The reference: each arrival in a transaction of its own, one after the other.
    for platform, user, space, name in sequence:
        await app.identity.resolve(
            platform,
            f"{alone}{user}",
            name,
            f"{alone}{space}",
            f"{alone}{space}",
            clock.now(),
            seen_every=timedelta(minutes=5),
        )
    creations = app.identity_cache.creations
    got = await asyncio.gather(
        *(
            _arrive(app, platform, f"{together}{user}", f"{together}{space}", name)
            for platform, user, space, name in sequence
        )
    )
    assert app.identity_cache.creations - creations == 1  # every one of them at once

    expected, state = await _state(app.engine, alone), await _state(app.engine, together)
    assert state == expected
    assert state["one_account_each"] and state["one_community_each"]
    assert state["other_memberships"] == 0
    # What each arrival was told agrees with the rows.
    async with app.engine.connect() as conn:
        rows = {
            (r.platform, r.platform_user_id): r.account_id
            for r in await conn.execute(select(identities))
        }
        places = {
            (r.platform, r.space_id): r.community_id for r in await conn.execute(select(spaces))
        }
    for ctx, (platform, user, space, name) in zip(got, sequence, strict=True):
        assert ctx.member.account_id == rows[(platform, f"{together}{user}")]
        assert ctx.community.id == places[(platform, f"{together}{space}")]
        assert ctx.member.display_name == (name or ctx.member.display_name)
    await _no_spare_rows(app.engine)


async def test_a_burst_of_new_members_is_two_transactions_and_fills_the_cache(
    app: App, clock: FakeClock
) -> None:
    await member(app, "author")  # the space and its community exist
    names = [f"Fan {i}" for i in range(200)]
    with counting(app.engine) as first:
        contexts = await asyncio.gather(*(member(app, n) for n in names * 2))
    # One read of the misses together, one transaction that creates all of them.
    assert first["transactions"] == 2
    assert len({c.member.account_id for c in contexts}) == len(names)
    start = clock.now()
    row = await last_seen(app, contexts[0].community.id, contexts[0].member.account_id)
    assert tuple(row) == (start, start)
    with counting(app.engine) as again:
        await asyncio.gather(*(member(app, n) for n in names))
    assert again == {"transactions": 0, "statements": 0}  # from memory


async def test_renamed_and_returning_members_join_the_new_ones(app: App, clock: FakeClock) -> None:
    old = await member(app, "Dee")
    await app.identity.set_account(old.member.account_id, locale="zh_CN")
    cid, aid = old.community.id, old.member.account_id
    start = clock.now()
    clock.advance(timedelta(minutes=6))
    app.identity_cache.clear()
    renamed, newcomer, elsewhere = await asyncio.gather(
        app.context(
            platform="console",
            space_id="console",
            space_name="console",
            user_id="dee",
            display_name="Dee Two",
            role=Role.FAN,
        ),
        member(app, "Eve"),
        member(app, "Dee", platform="console", space="other-room"),
    )
    assert renamed.member.account_id == elsewhere.member.account_id == aid
    assert renamed.member.display_name == "Dee Two" and renamed.locale == "zh_CN"
    assert elsewhere.locale == "zh_CN"  # the account's language, in a new community
    assert elsewhere.community.id != cid
    assert newcomer.member.account_id != aid
    names = await app.identity.display_names([aid])
    assert names[aid] in ("Dee Two", "Dee")  # both arrived at once; one of them is kept
    await app.identity_cache.flush()  # last_seen_at moves as before, off the press
    assert tuple(await last_seen(app, cid, aid)) == (start, start + timedelta(minutes=6))
    now = clock.now()
    assert tuple(await last_seen(app, elsewhere.community.id, aid)) == (now, now)


async def test_a_failing_batch_creates_each_member_alone(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(_arrivals: Sequence[Arrival]) -> list[Any]:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(app.identity, "create_many", broken)
    contexts = await asyncio.gather(*(member(app, f"fan{i}") for i in range(5)))
    assert len({c.member.account_id for c in contexts}) == 5
    await _no_spare_rows(app.engine)


def _second_engine(db_kind: str, tmp_path: Path, schema: str | None) -> AsyncEngine:
    if db_kind == "sqlite":
        return create_engine(sqlite_url(tmp_path / "fanloop.db"))
    return create_engine(PG_URL, schema=schema)


async def test_two_engines_creating_the_same_members_at_once_make_one_account_each(
    db_kind: str, tmp_path: Path, clock: FakeClock, settings: FanloopSettings
) -> None:
    """Two processes' worth: two engines, two Apps, the same new members pressing on both at
    the same moment, in overlapping batches."""
    engine, schema = await make_engine(db_kind, tmp_path)
    other_engine = _second_engine(db_kind, tmp_path, schema)
    try:
        one = await App.create(settings, clock, engine=engine, migrate=False)
        two = await App.create(settings, clock, engine=other_engine, migrate=False)
        one.identity_cache.max_batch = 37
        two.identity_cache.max_batch = 23
        users = [f"fan{i}" for i in range(300)]
        spaces_ = ["room-a", "room-b"]
        presses = [
            (app, user, space)
            for user in users
            for space in spaces_
            for app in ((one, two) if int(user[3:]) % 2 else (two, one))
        ]
        got = await asyncio.gather(*(member(a, u, space=s) for a, u, s in presses))
        told: dict[str, set[int]] = {}
        for ctx in got:
            told.setdefault(ctx.member.platform_user_id, set()).add(ctx.member.account_id)
        assert all(len(a) == 1 for a in told.values())  # both engines were told one account
        async with engine.connect() as conn:
            rows = (await conn.execute(select(identities.c.platform_user_id))).scalars().all()
            joined = (await conn.execute(select(func.count()).select_from(members))).scalar_one()
            places = (await conn.execute(select(func.count()).select_from(spaces))).scalar_one()
        assert sorted(rows) == sorted(users)
        assert joined == len(users) * len(spaces_) and places == len(spaces_)
        await _no_spare_rows(engine)
        await one.close()
        await two.close()
    finally:
        await other_engine.dispose()
        await engine.dispose()


def _spawn(db_kind: str, tmp_path: Path, schema: str | None, seed: int) -> subprocess.Popen[str]:
    url = sqlite_url(tmp_path / "fanloop.db") if db_kind == "sqlite" else PG_URL
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [url, schema or "", str(tmp_path / "go"), str(seed)]
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )


async def test_two_processes_creating_the_same_members_make_one_account_each(
    db_kind: str, tmp_path: Path
) -> None:
    engine, schema = await make_engine(db_kind, tmp_path)
    try:
        children = [_spawn(db_kind, tmp_path, schema, seed) for seed in (1, 2)]
        (tmp_path / "go").write_text("")  # both start pressing once they see this
        outs = await asyncio.gather(
            *(asyncio.to_thread(c.communicate, None, 120) for c in children)
        )
        assert [c.returncode for c in children] == [0, 0]
        told = [dict(line.split() for line in out.splitlines()) for out, _ in outs]
        assert told[0] == told[1] and len(told[0]) == 400  # the same account on both sides
        async with engine.connect() as conn:
            rows = {
                r.platform_user_id: r.account_id
                for r in await conn.execute(
                    select(identities.c.platform_user_id, identities.c.account_id)
                )
            }
        assert {u: str(a) for u, a in rows.items()} == told[0]
        await _no_spare_rows(engine)
    finally:
        await engine.dispose()
