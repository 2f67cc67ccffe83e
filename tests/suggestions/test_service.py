"""The suggestion loop's rules against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from bot.core.errors import UserError
from cogs.suggestions.service import SuggestionService
from tests.helpers import member


def svc(app: App) -> SuggestionService:
    return app.services.get(SuggestionService)


async def post(app: App, author_ctx, title: str, details: str = "") -> int:  # type: ignore[no-untyped-def]
    sub = await svc(app).submit(
        author_ctx.community.id, author_ctx.member.account_id, title, details, None, force=True
    )
    assert sub.posted is not None
    return sub.posted.id


async def test_author_vote_comes_with_the_post(app: App) -> None:
    alice = await member(app, "alice")
    sid = await post(app, alice, "Dark mode")
    row = await svc(app).get(alice.community.id, sid)
    assert row.votes == 1 and row.status == "new"


async def test_similar_open_suggestion_keeps_a_draft(app: App) -> None:
    alice, bob = await member(app, "alice"), await member(app, "bob")
    sid = await post(app, alice, "Dark mode for the app", "too bright at night")
    sub = await svc(app).submit(
        bob.community.id, bob.member.account_id, "Please add dark mode", "", None
    )
    assert sub.posted is None and sub.draft_id is not None
    assert [r.id for r, _ in sub.similar] == [sid]
    row = await svc(app).post_draft(bob.community.id, sub.draft_id, bob.member.account_id)
    assert row.title == "Please add dark mode"
    with pytest.raises(UserError) as err:  # a second press posts nothing more
        await svc(app).post_draft(bob.community.id, sub.draft_id, bob.member.account_id)
    assert err.value.key == "suggest.draft.posted"
    with pytest.raises(UserError):  # someone else's draft
        await svc(app).post_draft(alice.community.id, sub.draft_id, alice.member.account_id)


async def test_chinese_similar(app: App) -> None:
    a, b = await member(app, "a"), await member(app, "b")
    sid = await post(app, a, "希望增加夜间模式", "晚上屏幕太亮")
    await post(app, a, "支持导出聊天记录")
    sub = await svc(app).submit(b.community.id, b.member.account_id, "夜间模式", "", None)
    assert sub.posted is None and sub.similar[0][0].id == sid


async def test_one_vote_per_account(app: App) -> None:
    alice, bob = await member(app, "alice"), await member(app, "bob")
    sid = await post(app, alice, "Dark mode")
    s = svc(app)
    _, added, _ = await s.vote(bob.community.id, sid, bob.member.account_id)
    _, again, _ = await s.vote(bob.community.id, sid, bob.member.account_id)
    assert added and not again
    assert (await s.get(bob.community.id, sid)).votes == 2
    row, voted, _ = await s.toggle(bob.community.id, sid, bob.member.account_id)
    assert not voted and row.votes == 1


async def test_merge_unites_voters_and_unmerge_takes_back_exactly(app: App) -> None:
    a, b, c, d = [await member(app, n) for n in "abcd"]
    admin = await member(app, "admin", Role.ADMIN)
    cid = a.community.id
    s = svc(app)
    orig = await post(app, a, "Dark mode")
    dup = await post(app, b, "Night theme")
    await s.vote(cid, orig, c.member.account_id)  # c votes for both
    await s.vote(cid, dup, c.member.account_id)
    await s.vote(cid, dup, d.member.account_id)
    result = await s.merge(cid, dup, orig, admin.member.account_id)
    assert result.added_votes == 2  # b and d; c already counted
    assert result.original.votes == 4
    assert result.duplicate.status == "duplicate" and result.duplicate.merged_into == orig
    # Voting for the duplicate now lands on the original.
    e = await member(app, "e")
    row, added, redirected = await s.vote(cid, dup, e.member.account_id)
    assert (row.id, added, redirected) == (orig, True, dup)
    reopened, original, taken = await s.unmerge(cid, dup, admin.member.account_id)
    assert (original, taken) == (orig, 2)
    assert reopened.status == "new" and reopened.merged_into is None
    assert (await s.get(cid, orig)).votes == 3  # a, c, e
    assert reopened.votes == 3  # b, c, d


async def test_merge_rules(app: App) -> None:
    a = await member(app, "a")
    admin = await member(app, "admin", Role.ADMIN)
    cid, s = a.community.id, svc(app)
    one, two, three = [await post(app, a, t) for t in ("One thing", "Two things", "Three things")]
    with pytest.raises(UserError, match="merge.self"):
        await s.merge(cid, one, one, admin.member.account_id)
    await s.merge(cid, two, one, admin.member.account_id)
    with pytest.raises(UserError, match="merge.already"):
        await s.merge(cid, two, three, admin.member.account_id)
    with pytest.raises(UserError, match="merge.into_duplicate"):
        await s.merge(cid, three, two, admin.member.account_id)
    with pytest.raises(UserError, match="unmerge.not_merged"):
        await s.unmerge(cid, three, admin.member.account_id)
    with pytest.raises(UserError, match="suggest.unknown"):
        await s.merge(cid, 999, one, admin.member.account_id)


async def test_status_flow_and_closed_votes(app: App) -> None:
    a, b = await member(app, "a"), await member(app, "b")
    admin = await member(app, "admin", Role.ADMIN)
    cid, s = a.community.id, svc(app)
    sid = await post(app, a, "Dark mode")
    old, row = await s.set_status(cid, sid, "planned", "in 2.1", admin.member.account_id)
    assert (old, row.status, row.status_note) == ("new", "planned", "in 2.1")
    with pytest.raises(UserError, match="status.same"):
        await s.set_status(cid, sid, "planned", "in 2.1", admin.member.account_id)
    with pytest.raises(UserError, match="status.unknown"):
        await s.set_status(cid, sid, "duplicate", None, admin.member.account_id)
    await s.set_status(cid, sid, "shipped", None, admin.member.account_id)
    with pytest.raises(UserError, match="vote.closed"):
        await s.vote(cid, sid, b.member.account_id)
    assert (await s.roadmap(cid))["planned"] == []


async def test_hidden_posts_vanish_for_fans(app: App) -> None:
    a = await member(app, "a")
    admin = await member(app, "admin", Role.ADMIN)
    cid, s = a.community.id, svc(app)
    sid = await post(app, a, "Buy cheap watches here")
    await s.set_hidden(cid, sid, True, admin.member.account_id)
    with pytest.raises(UserError, match="suggest.unknown"):
        await s.get(cid, sid)
    assert (await s.get(cid, sid, include_hidden=True)).hidden
    assert await s.search(cid, "cheap watches") == []
    assert await s.newest(cid) == []


async def test_heat_prefers_recent_votes(app: App, clock: FakeClock) -> None:
    s = svc(app)
    people = [await member(app, f"p{i}") for i in range(12)]
    cid = people[0].community.id
    old = await post(app, people[0], "Old favourite")
    for p in people[1:9]:  # 9 votes, two months ago
        await s.vote(cid, old, p.member.account_id)
    clock.advance(timedelta(days=60))
    new = await post(app, people[9], "Fresh idea")
    for p in people[10:12]:  # 3 votes, now
        await s.vote(cid, new, p.member.account_id)
    ranked = await s.top(cid, timedelta(days=7))
    assert [r.id for r, _ in ranked] == [new, old]
    heat_new = ranked[0][1]
    assert heat_new == pytest.approx(3.0)
    assert [r.id for r in await s.by_votes(cid)] == [old, new]
