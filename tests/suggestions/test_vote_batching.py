"""Votes committed in batches act exactly as one transaction per press; the vote count column
always equals the votes; a redelivered press (its receipt recorded) changes nothing. On SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.core.app import App
from bot.core.commands import Role
from bot.core.context import Context, Receipt
from bot.core.errors import UserError
from cogs.suggestions.service import SuggestionService
from storage.platform.schema import processed_events
from storage.suggestions.schema import suggestions, votes
from tests.helpers import member

PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_space = iter(range(10**9))

KINDS = ("vote", "unvote", "toggle")
# What each target index is, per community: two open suggestions, one merged into the first,
# one hidden, one shipped (closed for votes), and an id that does not exist.
TARGETS = ("open", "open", "merged", "hidden", "shipped", "unknown")

presses = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 3), st.integers(0, len(TARGETS) - 1)),
    min_size=1,
    max_size=40,
)


def svc(app: App) -> SuggestionService:
    return app.services.get(SuggestionService)


async def _community(app: App) -> tuple[Context, list[Context], list[int]]:
    """Four members and the targets above, in a community of their own."""
    space = f"batching-{next(_space)}"
    admin = await member(app, "admin", Role.ADMIN, space=space)
    people = [await member(app, f"m{i}", space=space) for i in range(4)]
    s, cid, me = svc(app), admin.community.id, admin.member.account_id
    ids = []
    for i in range(5):
        sub = await s.submit(cid, me, f"Idea number {i}", "", None, force=True)
        assert sub.posted is not None
        ids.append(sub.posted.id)
    await s.vote(cid, ids[2], people[1].member.account_id)  # carried over by the merge
    await s.merge(cid, ids[2], ids[0], me)
    await s.set_hidden(cid, ids[3], True, me)
    await s.set_status(cid, ids[4], "shipped", None, me)
    return admin, people, [*ids, 10**9]


def _answer(result: Any, ids: list[int]) -> tuple[Any, ...]:
    """A press's answer with ids made relative to the community (to compare two of them)."""
    if isinstance(result, UserError):
        params = {
            k: (ids.index(v) if k in ("id", "into") and v in ids else v)
            for k, v in result.params.items()
        }
        return ("error", result.key, tuple(sorted(params.items())))
    row, *rest = result
    rest = [
        ids.index(r) if isinstance(r, int) and not isinstance(r, bool) and r in ids else r
        for r in rest
    ]
    return (ids.index(row.id), row.votes, *rest)


async def _run(s: SuggestionService, cid: int, kind: str, sid: int, account: int) -> Any:
    try:
        if kind == "vote":
            return await s.vote(cid, sid, account)
        if kind == "unvote":
            return await s.unvote(cid, sid, account)
        return await s.toggle(cid, sid, account)
    except UserError as exc:
        return exc


async def _final(app: App, ids: list[int], people: list[Context]) -> list[tuple[int, int]]:
    accounts = [p.member.account_id for p in people]
    async with app.engine.connect() as conn:
        rows = await conn.execute(
            select(votes.c.suggestion_id, votes.c.account_id, votes.c.merge_id).where(
                votes.c.suggestion_id.in_(ids)
            )
        )
        return sorted(
            (
                ids.index(r.suggestion_id),
                accounts.index(r.account_id) if r.account_id in accounts else -1,
                r.merge_id is None,
            )
            for r in rows
        )


async def _counts_match(app: App) -> None:
    async with app.engine.connect() as conn:
        counted = dict(
            (
                await conn.execute(
                    select(votes.c.suggestion_id, func.count()).group_by(votes.c.suggestion_id)
                )
            ).all()
        )
        column = dict((await conn.execute(select(suggestions.c.id, suggestions.c.votes))).all())
    assert {sid: counted.get(sid, 0) for sid in column} == column


@PROPERTY
@given(sequence=presses)
async def test_a_batch_answers_as_one_transaction_per_press(
    app: App, sequence: list[tuple[str, int, int]]
) -> None:
    s = svc(app)
    _, batched, batched_ids = await _community(app)
    _, alone, alone_ids = await _community(app)

    s.batched = False  # the reference: each press its own transaction, one after the other
    expected = []
    for kind, who, target in sequence:
        p = alone[who]
        expected.append(
            _answer(
                await _run(s, p.community.id, kind, alone_ids[target], p.member.account_id),
                alone_ids,
            )
        )
    s.batched = True
    before = s.writer.batches
    got = await asyncio.gather(
        *(
            _run(
                s,
                batched[who].community.id,
                kind,
                batched_ids[target],
                batched[who].member.account_id,
            )
            for kind, who, target in sequence
        )
    )
    assert s.writer.batches - before <= 2  # the first press alone, then the rest together
    assert [_answer(r, batched_ids) for r in got] == expected
    assert await _final(app, batched_ids, batched) == await _final(app, alone_ids, alone)
    await _counts_match(app)


operations = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(KINDS), st.integers(0, 3), st.integers(0, 4)),
        st.tuples(st.just("merge"), st.integers(0, 4), st.integers(0, 4)),
        st.tuples(st.just("unmerge"), st.integers(0, 4), st.just(0)),
        st.tuples(st.just("link"), st.integers(0, 3), st.integers(0, 3)),
        st.tuples(st.just("post"), st.integers(0, 3), st.just(0)),
    ),
    max_size=30,
)


@PROPERTY
@given(sequence=operations)
async def test_the_vote_count_column_equals_the_votes(
    app: App, sequence: list[tuple[str, int, int]]
) -> None:
    """Whatever changes votes (presses in batches, posts with their author's vote, merges and
    unmerges carrying votes, linked accounts counting once), the column stays the count."""
    s = svc(app)
    admin, people, ids = await _community(app)
    ids = ids[:5]
    cid = admin.community.id
    pending = []
    for op, a, b in sequence:
        try:
            if op in KINDS:
                pending.append(_run(s, cid, op, ids[b], people[a].member.account_id))
                continue
            await asyncio.gather(*pending)
            pending = []
            if op == "merge":
                await s.merge(cid, ids[a], ids[b], admin.member.account_id)
            elif op == "unmerge":
                await s.unmerge(cid, ids[a], admin.member.account_id)
            elif op == "link" and people[a].member.account_id != people[b].member.account_id:
                await app.identity.merge_accounts(
                    people[a].member.account_id, people[b].member.account_id, app.account_mergers
                )
                people[a] = people[b]
            elif op == "post":
                sub = await s.submit(
                    cid, people[a].member.account_id, f"Post {len(ids)}", "", None, force=True
                )
                assert sub.posted is not None
                ids.append(sub.posted.id)
        except UserError:
            pass
    await asyncio.gather(*pending)
    await _counts_match(app)


async def test_a_redelivered_press_changes_nothing(app: App) -> None:
    author = await member(app, "author", platform="telegram", space="group")
    s, cid = svc(app), author.community.id
    sub = await s.submit(cid, author.member.account_id, "Dark mode", "", None, force=True)
    assert sub.posted is not None
    sid = sub.posted.id

    async def press(name: str, event: str) -> Context:
        ctx = await app.context(
            platform="telegram",
            space_id="group",
            space_name="group",
            user_id=name,
            display_name=name,
            role=Role.FAN,
            receipt=Receipt("telegram", event),
        )
        reply = await app.dispatcher.press(ctx, f"sv:{sid}")
        assert not reply.error
        ctx.extras = {"text": reply.text}
        return ctx

    first = await press("fan", "update-1")
    assert first.receipt_recorded
    again = await press("fan", "update-1")  # the same update, delivered again: not undone
    assert again.receipt_recorded and again.extras == first.extras
    assert (await s.get(cid, sid)).votes == 2
    # Twice in the same batch: one toggle.
    both = await asyncio.gather(press("other", "update-2"), press("other", "update-2"))
    assert both[0].extras == both[1].extras
    assert (await s.get(cid, sid)).votes == 3
    # A new delivery of the same button takes the vote back, as a press does.
    await press("fan", "update-3")
    assert (await s.get(cid, sid)).votes == 2
    async with app.engine.connect() as conn:
        recorded = {
            r.event_id
            for r in await conn.execute(
                select(processed_events.c.event_id).where(processed_events.c.platform == "telegram")
            )
        }
    assert recorded == {"update-1", "update-2", "update-3"}


async def test_a_refused_press_records_its_receipt_too(app: App) -> None:
    ctx = await app.context(
        platform="telegram",
        space_id="group",
        space_name="group",
        user_id="fan",
        display_name="fan",
        role=Role.FAN,
        receipt=Receipt("telegram", "update-9"),
    )
    reply = await app.dispatcher.press(ctx, "sv:424242")
    assert reply.error and ctx.receipt_recorded
