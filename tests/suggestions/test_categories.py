"""Categories against a real database (SQLite and PostgreSQL): names unique per community
whatever their case or width, removal leaves suggestions without one, the migration turns
categories typed before into declared ones."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from bot.core.app import App
from bot.core.errors import UserError
from cogs.suggestions.categories import MAX_CATEGORIES, CategoryService, clean, fold
from cogs.suggestions.service import SuggestionService
from storage.core.schema import accounts, communities
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.suggestions.schema import categories, drafts, suggestions
from tests import databases
from tests.conftest import PG_URL, drop_schema
from tests.helpers import member

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def cats(app: App) -> CategoryService:
    return app.services.get(CategoryService)


@given(st.text(max_size=40))
def test_folding_is_stable_and_ignores_case_width_and_spacing(name: str) -> None:
    key = fold(name)
    assert fold(key) == key
    assert fold(name.upper()) == fold(name.lower()) or name.upper().lower() != name.lower()
    assert fold(f"  {name}\u200b ") == key
    assert not any(ch.isspace() and ch != " " for ch in clean(name))


def test_full_width_and_case_fold_together() -> None:
    assert fold("ＭＡＰＳ") == fold("maps") == fold(" Ma\u200bps ") == "maps"
    assert fold("Dark   Mode") == "dark mode"
    assert clean("Dark\nMode\t") == "Dark Mode"


async def test_unique_per_community_and_limited(app: App) -> None:
    olga = await member(app, "olga")
    other = await member(app, "otto", space="elsewhere")
    await cats(app).add(olga.community.id, "Maps")
    with pytest.raises(UserError) as err:
        await cats(app).add(olga.community.id, "mAPS")
    assert err.value.key == "category.exists" and err.value.params["name"] == "Maps"
    await cats(app).add(other.community.id, "maps")  # another community: its own list
    for n in range(MAX_CATEGORIES - 1):
        await cats(app).add(olga.community.id, f"c{n}")
    with pytest.raises(UserError) as err:
        await cats(app).add(olga.community.id, "one too many")
    assert err.value.key == "category.too_many"
    assert len(await cats(app).all(olga.community.id)) == MAX_CATEGORIES


async def test_two_owners_adding_one_name_at_once_make_one(app: App) -> None:
    olga = await member(app, "olga")
    results = await asyncio.gather(
        *(cats(app).add(olga.community.id, name) for name in ("Maps", "maps", "MAPS", "Ｍaps")),
        return_exceptions=True,
    )
    made = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, UserError)]
    assert len(made) == 1 and len(refused) == 3
    assert [c.name for c in await cats(app).all(olga.community.id)] == [made[0].name]


async def test_removal_leaves_suggestions_and_drafts_without_one(app: App) -> None:
    olga, alice = await member(app, "olga"), await member(app, "alice")
    cid, me = alice.community.id, alice.member.account_id
    s = app.services.get(SuggestionService)
    await cats(app).add(cid, "Maps")
    await cats(app).add(cid, "Sound")
    posted = await s.submit(cid, me, "Offline maps", "", "Maps", force=True)
    other = await s.submit(cid, me, "Louder alarms", "", "Sound", force=True)
    draft = await s.hold(cid, me, "Map labels", "")
    assert await cats(app).choose_for_draft(cid, draft, me, 1)
    assert posted.posted and other.posted
    removed, left = await cats(app).remove(olga.community.id, "maps")
    assert (removed.name, left) == ("Maps", 1)
    assert (await s.get(cid, posted.posted.id)).category is None
    assert (await s.get(cid, other.posted.id)).category == "Sound"
    assert (await s.repo.draft(draft)).category is None  # type: ignore[union-attr]
    with pytest.raises(UserError) as err:  # a pick from before the removal
        await cats(app).choose_for_draft(cid, draft, me, 1)
    assert err.value.key == "category.gone"
    with pytest.raises(UserError) as err:
        await cats(app).remove(cid, "Maps")
    assert err.value.key == "category.unknown" and err.value.params["names"] == "Sound"


async def test_filters_read_only_their_category(app: App) -> None:
    alice = await member(app, "alice")
    cid, me = alice.community.id, alice.member.account_id
    s = app.services.get(SuggestionService)
    await cats(app).add(cid, "Maps")
    for title, category in (("Offline maps", "Maps"), ("Dark mode", None), ("Map pins", "Maps")):
        await s.submit(cid, me, title, "", category, force=True)
    assert [r.title for r in await s.newest(cid, category="Maps")] == ["Map pins", "Offline maps"]
    assert [r.title for r, _ in await s.top(cid, _week(), category="Maps")] == [
        "Map pins",
        "Offline maps",
    ]
    assert [r.title for r in await s.by_votes(cid, category="Maps")] == ["Map pins", "Offline maps"]
    found = [r for r, _ in await s.search(cid, "offline maps", category="Maps")]
    assert "Offline maps" in [r.title for r in found]
    assert all(r.category == "Maps" for r in found)
    assert [r for r, _ in await s.search(cid, "dark mode", category="Maps")] == []


def _week() -> timedelta:
    return timedelta(days=7)


async def test_the_migration_declares_the_categories_typed_before(
    db_kind: str, tmp_path: Path
) -> None:
    if db_kind == "sqlite":
        engine, schema = create_engine(databases.sqlite_url(tmp_path / "old.db")), None
    else:
        schema = await databases.create_schema(PG_URL)
        engine = create_engine(PG_URL, schema=schema)
    try:
        await upgrade(engine, "0004_rate_limits")  # a database from before categories
        async with engine.begin() as conn:
            await conn.execute(
                insert(communities), [{"id": c, "name": f"c{c}", "created_at": AT} for c in (1, 2)]
            )
            await conn.execute(insert(accounts).values(id=1, created_at=AT))
            await conn.execute(
                insert(suggestions),
                [
                    {
                        "id": sid,
                        "community_id": cid,
                        "author_id": 1,
                        "title": "t",
                        "category": category,
                        "created_at": AT,
                        "updated_at": AT,
                    }
                    for sid, cid, category in (
                        (1, 1, "Maps"),
                        (2, 1, "maps"),
                        (3, 1, None),
                        (4, 2, "maps"),
                        (5, 1, "界面"),
                        (6, 1, " \u200b "),
                    )
                ],
            )
            await conn.execute(
                insert(drafts).values(
                    id=1, community_id=1, account_id=1, title="d", category="MAPS", created_at=AT
                )
            )
        await upgrade(engine)
        async with engine.connect() as conn:
            declared = sorted(
                (await conn.execute(select(categories.c.community_id, categories.c.name))).all()
            )
            kept = dict(
                (await conn.execute(select(suggestions.c.id, suggestions.c.category))).all()
            )
            draft = (await conn.execute(select(drafts.c.category))).scalar_one()
        assert declared == [(1, "Maps"), (1, "界面"), (2, "maps")]
        assert kept == {1: "Maps", 2: "Maps", 3: None, 4: "maps", 5: "界面", 6: None}
        assert draft == "Maps"
    finally:
        await engine.dispose()
        if schema:
            await drop_schema(schema)


_space = iter(range(10**9))


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    picks=st.lists(st.tuples(st.integers(0, 1), st.integers(0, 3)), min_size=1, max_size=8),
    removed=st.booleans(),
)
async def test_picks_post_a_draft_once_in_a_category_that_exists(
    app: App, picks: list[tuple[int, int]], removed: bool
) -> None:
    """Whoever presses which choice, in any order: the draft is posted at most once, by its
    author, in a category that exists (or none)."""
    space = f"pick-{next(_space)}"
    author, other = await member(app, "a", space=space), await member(app, "b", space=space)
    cid = author.community.id
    maps = await cats(app).add(cid, "Maps")
    sound = await cats(app).add(cid, "Sound")
    if removed:
        await cats(app).remove(cid, "Sound")
    s = app.services.get(SuggestionService)
    draft = await s.hold(cid, author.member.account_id, "A unique title for this draft", "")
    choices = [0, maps.id, sound.id, 10**6]
    posted = []
    for who, choice in picks:
        ctx = (author, other)[who]
        try:
            await cats(app).choose_for_draft(cid, draft, ctx.member.account_id, choices[choice])
            sub = await s.continue_draft(cid, draft, ctx.member.account_id)
        except UserError:
            continue
        assert ctx is author and sub.posted is not None
        posted.append(sub.posted)
    assert len(posted) <= 1
    rows = await s.mine(cid, author.member.account_id)
    assert len(rows) == len(posted)
    existing = {c.name for c in await cats(app).all(cid)}
    assert all(r.category is None or r.category in existing for r in rows)
