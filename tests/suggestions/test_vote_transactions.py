"""Votes are committed in batches: a press alone is one transaction of a few statements, a burst
is a few transactions; the rules stay those of the service (redirects, closed, hidden)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from sqlalchemy.exc import IntegrityError

from bot.core.app import App
from bot.core.errors import UserError
from cogs.suggestions.service import SuggestionService
from storage.suggestions.votes import Target
from tests.core.test_context import counting
from tests.helpers import member
from tests.suggestions.test_service import post


def svc(app: App) -> SuggestionService:
    return app.services.get(SuggestionService)


async def test_a_press_alone_is_one_transaction_of_a_few_statements(app: App) -> None:
    alice, bob = await member(app, "alice"), await member(app, "bob")
    cid, me = alice.community.id, bob.member.account_id
    sid = await post(app, alice, "Dark mode")
    s = svc(app)
    with counting(app.engine) as seen:
        row, voted, redirected = await s.toggle(cid, sid, me)
    assert (row.votes, voted, redirected) == (2, True, None)
    assert seen == {"transactions": 1, "statements": 4}  # suggestion, vote, insert, count
    with counting(app.engine) as seen:
        row, voted, _ = await s.toggle(cid, sid, me)
    assert (row.votes, voted) == (1, False)
    assert seen == {"transactions": 1, "statements": 4}  # suggestion, vote, delete, count
    with counting(app.engine) as seen:
        row, removed = await s.unvote(cid, sid, me)
    assert (row.votes, removed) == (1, False)
    assert seen == {"transactions": 1, "statements": 2}  # nothing to take back
    await s.vote(cid, sid, me)
    with counting(app.engine) as seen:
        row, added, _ = await s.vote(cid, sid, me)
    assert (row.votes, added) == (2, False)
    assert seen == {"transactions": 1, "statements": 2}  # already there: nothing written


async def test_a_burst_is_a_few_transactions_and_statements(app: App) -> None:
    alice = await member(app, "alice")
    fans = [await member(app, f"fan{i}") for i in range(200)]
    cid = alice.community.id
    sid = await post(app, alice, "Dark mode")
    s = svc(app)
    with counting(app.engine) as seen:
        answers = await asyncio.gather(*(s.toggle(cid, sid, f.member.account_id) for f in fans))
    assert all(voted for _row, voted, _ in answers)
    assert sorted(row.votes for row, _, _ in answers) == list(range(2, 202))  # in order
    assert (await s.get(cid, sid)).votes == 201
    # The first press starts a batch alone; the 199 queued behind it go in the next.
    assert seen["transactions"] <= 3 and seen["statements"] <= 12


async def test_redirect_and_closed_in_the_same_transaction(app: App) -> None:
    admin, fan = await member(app, "admin"), await member(app, "fan")
    cid, me = admin.community.id, fan.member.account_id
    orig = await post(app, admin, "Dark mode")
    dup = await post(app, admin, "Night theme")
    s = svc(app)
    await s.merge(cid, dup, orig, admin.member.account_id)
    with counting(app.engine) as seen:
        row, added, redirected = await s.toggle(cid, dup, me)
    assert (row.id, row.votes, added, redirected) == (orig, 2, True, dup)
    assert seen == {"transactions": 1, "statements": 5}  # two reads, votes, insert, count
    await s.set_status(cid, orig, "shipped", None, admin.member.account_id)
    with pytest.raises(UserError) as err:
        await s.vote(cid, dup, me)
    assert err.value.key == "vote.closed" and err.value.params["id"] == orig
    await s.set_hidden(cid, dup, True, admin.member.account_id)
    with pytest.raises(UserError) as err:
        await s.toggle(cid, dup, me)
    assert err.value.key == "suggest.unknown"


async def test_a_carried_vote_becomes_ones_own_and_survives_unmerge(app: App) -> None:
    admin, fan = await member(app, "admin"), await member(app, "fan")
    cid, me = admin.community.id, fan.member.account_id
    orig = await post(app, admin, "Dark mode")
    dup = await post(app, admin, "Night theme")
    s = svc(app)
    await s.vote(cid, dup, me)
    await s.merge(cid, dup, orig, admin.member.account_id)
    row, added, _ = await s.vote(cid, orig, me)  # carried over: made my own, not new
    assert (row.votes, added) == (2, False)
    await s.unmerge(cid, dup, admin.member.account_id)
    assert (await s.get(cid, orig)).votes == 2
    assert sorted(await s.voters(orig)) == sorted([admin.member.account_id, me])


async def test_a_failed_vote_rolls_back_and_lets_the_next_one_write(app: App) -> None:
    alice, bob = await member(app, "alice"), await member(app, "bob")
    cid, me = alice.community.id, bob.member.account_id
    sid = await post(app, alice, "Dark mode")
    s = svc(app)
    row = await s.get(cid, sid)
    gone = Target(dataclasses.replace(row, id=sid + 100), voted=False, carried=False)
    s.batched = False  # the per-press path, kept as the reference
    with pytest.raises(IntegrityError):  # no such suggestion: the foreign key refuses the vote
        async with s.votes.unit(me, app.clock.now()) as unit:
            await unit.add(gone)
    row, added, _ = await asyncio.wait_for(s.vote(cid, sid, me), timeout=10)
    assert (row.votes, added) == (2, True)
    assert (await s.get(cid, sid)).votes == 2
