"""Invariants of the suggestion loop, on both databases: one vote per account; a merge keeps
every voter once; merge then unmerge restores every count exactly."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.app import App
from bot.core.commands import Role
from cogs.suggestions.service import SuggestionService
from tests.helpers import member

PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_space = iter(range(10**9))

ops = st.lists(
    st.tuples(st.sampled_from(["vote", "unvote", "toggle"]), st.integers(0, 5), st.integers(0, 2)),
    max_size=40,
)


async def _community(app: App, n_members: int) -> tuple[list, list[int]]:  # type: ignore[type-arg]
    space = f"prop-{next(_space)}"
    people = [await member(app, f"m{i}", space=space) for i in range(n_members)]
    s = app.services.get(SuggestionService)
    ids = []
    for i in range(3):
        sub = await s.submit(
            people[0].community.id,
            people[0].member.account_id,
            f"Idea number {i}",
            "",
            None,
            force=True,
        )
        assert sub.posted
        ids.append(sub.posted.id)
    return people, ids


@PROPERTY
@given(sequence=ops)
async def test_one_vote_per_account(app: App, sequence: list[tuple[str, int, int]]) -> None:
    s = app.services.get(SuggestionService)
    people, ids = await _community(app, 6)
    cid = people[0].community.id
    model = {sid: {people[0].member.account_id} for sid in ids}  # authors' own votes
    for op, who, which in sequence:
        acc, sid = people[who].member.account_id, ids[which]
        if op == "vote":
            await s.vote(cid, sid, acc)
            model[sid].add(acc)
        elif op == "unvote":
            await s.unvote(cid, sid, acc)
            model[sid].discard(acc)
        else:
            await s.toggle(cid, sid, acc)
            model[sid] ^= {acc}
    for sid in ids:
        voters = await s.voters(sid)
        assert len(voters) == len(set(voters))
        assert set(voters) == model[sid]
        assert (await s.get(cid, sid)).votes == len(model[sid])


@PROPERTY
@given(
    dup_voters=st.sets(st.integers(1, 7), max_size=7),
    orig_voters=st.sets(st.integers(1, 7), max_size=7),
)
async def test_merge_keeps_every_voter_once_and_unmerge_restores(
    app: App, dup_voters: set[int], orig_voters: set[int]
) -> None:
    s = app.services.get(SuggestionService)
    people, (orig, dup, _other) = await _community(app, 8)
    cid = people[0].community.id
    admin = await member(app, "admin", Role.ADMIN, space=f"prop-admin-{cid}")
    for i in dup_voters:
        await s.vote(cid, dup, people[i].member.account_id)
    for i in orig_voters:
        await s.vote(cid, orig, people[i].member.account_id)
    before = {sid: set(await s.voters(sid)) for sid in (orig, dup)}
    await s.merge(cid, dup, orig, admin.member.account_id)
    after = await s.voters(orig)
    assert len(after) == len(set(after))
    assert set(after) == before[orig] | before[dup]
    await s.unmerge(cid, dup, admin.member.account_id)
    assert {sid: set(await s.voters(sid)) for sid in (orig, dup)} == before
    assert (await s.get(cid, orig)).votes == len(before[orig])
    assert (await s.get(cid, dup)).status == "new"
