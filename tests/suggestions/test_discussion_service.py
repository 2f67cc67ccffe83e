"""Comments and following against a real database (SQLite and PostgreSQL): every follower is
told of every comment of others exactly once, however the comments and the ticks interleave;
linked accounts; hidden suggestions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.errors import UserError
from cogs.suggestions.discussion import DiscussionService
from cogs.suggestions.service import SuggestionService
from storage.core.schema import outbox
from storage.suggestions.comments import merge_comment_accounts
from tests.helpers import member

PROPERTY = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_space = iter(range(10**9))


def talk(app: App) -> DiscussionService:
    return app.services.get(DiscussionService)


async def told_through(app: App, sid: int, account: int) -> list[int]:
    """The last comment id each notification to `account` about `sid` covered, in order."""
    prefix = f"comments:{sid}:{account}:"
    async with app.engine.connect() as conn:
        keys = (
            await conn.execute(
                select(outbox.c.dedup_key)
                .where(outbox.c.dedup_key.like(prefix + "%"))
                .order_by(outbox.c.id)
            )
        ).scalars()
        return [int(k[len(prefix) :].split(":")[0]) for k in keys]


@PROPERTY
@given(
    steps=st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 25), st.booleans()), min_size=1, max_size=12
    )
)
async def test_each_comment_is_told_once_to_each_follower(
    app: App, clock: FakeClock, steps: list[tuple[int, int, bool]]
) -> None:
    space = f"talk-{next(_space)}"
    people = [await member(app, name, space=space) for name in ("ann", "ben", "cat")]
    s = app.services.get(SuggestionService)
    sub = await s.submit(
        people[0].community.id, people[0].member.account_id, "Idea", "", None, force=True
    )
    assert sub.posted is not None
    row = sub.posted
    await s.vote(row.community_id, row.id, people[1].member.account_id)
    await talk(app).follow(row, people[1].member.account_id)
    written: list[tuple[int, int]] = []  # (comment id, author index)
    for who, minutes, tick in steps:
        posted = await talk(app).comment(
            row,
            people[who].member.account_id,
            people[who].member.display_name,
            "hi",
            platform="console",
        )
        assert posted is not None
        written.append((posted.comment.id, who))
        clock.advance(timedelta(minutes=minutes))
        if tick:
            await talk(app).tell_due()
    clock.advance(timedelta(minutes=11))
    await talk(app).tell_due()
    for index in (0, 1):  # the author, and the voter who follows
        account = people[index].member.account_id
        others = [cid for cid, who in written if who != index]
        covered = await told_through(app, row.id, account)
        assert covered == sorted(set(covered))  # each notification covers newer comments only
        assert (covered[-1] if covered else None) == (others[-1] if others else None)
        # Never two notifications within the pause.
        assert len(covered) <= 1 + sum(m for _, m, _ in steps) // 10 + 1


async def test_hidden_suggestions_take_no_comments_and_tell_no_one(app: App) -> None:
    alice, bob = await member(app, "alice"), await member(app, "bob")
    s = app.services.get(SuggestionService)
    sub = await s.submit(alice.community.id, alice.member.account_id, "Idea", "", None, force=True)
    assert sub.posted is not None
    sid = sub.posted.id
    await s.set_hidden(alice.community.id, sid, True, alice.member.account_id)
    with pytest.raises(UserError):
        await s.get(alice.community.id, sid)
    await talk(app).comment(sub.posted, bob.member.account_id, "bob", "hi", platform="console")
    assert await talk(app).tell_due() == 0


async def test_linked_accounts_keep_their_comments_and_one_follow(app: App) -> None:
    alice, bob = await member(app, "alice"), await member(app, "bob")
    s = app.services.get(SuggestionService)
    sub = await s.submit(alice.community.id, alice.member.account_id, "Idea", "", None, force=True)
    assert sub.posted is not None
    row = sub.posted
    await talk(app).comment(row, bob.member.account_id, "bob", "one", platform="console")
    other = await member(app, "bob2", platform="telegram", space="tg")
    await talk(app).comment(row, other.member.account_id, "bob2", "two", platform="console")
    async with app.engine.begin() as conn:
        await merge_comment_accounts(conn, other.member.account_id, bob.member.account_id)
    rows, count = await talk(app).latest(row.id)
    assert count == 2 and {r.author_id for r in rows} == {bob.member.account_id}
    assert await talk(app).follows(row, bob.member.account_id)


async def test_comments_are_cleaned_and_limited(app: App) -> None:
    assert DiscussionService.clean("\u200b  hello\x00 world \ufeff") == "hello world"
    for bad in ("", " \u200b\u2800 ", "x" * 1001):
        with pytest.raises(UserError):
            DiscussionService.clean(bad)
    assert len(DiscussionService.clean("字" * 1000)) == 1000
