"""Linked accounts share one participation record."""

from __future__ import annotations

from bot.core.app import App
from bot.core.commands import Role
from cogs.suggestions.service import SuggestionService
from storage.participation.ledger import merge_participation_accounts
from tests.helpers import member
from tests.participation.support import ListSource, service, totals


async def test_linking_merges_the_record_and_counts_shared_contributions_once(app: App) -> None:
    s = app.services.get(SuggestionService)
    owner_dc = await member(app, "owner", Role.OWNER, platform="discord", space="guild-1")
    code = (await app.dispatcher.run_line(owner_dc, "/community code")).text
    owner_tg = await member(app, "owner", Role.OWNER, platform="telegram", space="chat-9")
    joined = await app.dispatcher.run_line(owner_tg, f"/join {code.split(': ')[1].split('.')[0]}")
    assert not joined.error, joined.text
    cid = owner_dc.community.id
    lin_dc = await member(app, "lin", platform="discord", space="guild-1")
    lin_tg = await member(app, "Lin", platform="telegram", space="chat-9")
    dc, tg = lin_dc.member.account_id, lin_tg.member.account_id
    assert lin_tg.community.id == cid and dc != tg

    ids = []
    for title in ("Dark mode for the app", "Offline maps for the subway"):
        sub = await s.submit(cid, owner_dc.member.account_id, title, "", None, force=True)
        assert sub.posted
        ids.append(sub.posted.id)
    own = await s.submit(cid, tg, "Bigger fonts everywhere", "", None, force=True)
    assert own.posted
    await s.vote(cid, ids[0], tg)
    await s.vote(cid, ids[0], dc)
    await s.vote(cid, ids[1], dc)
    await s.vote(cid, own.posted.id, dc)  # "another" person's suggestion, for now
    source = ListSource(cid)
    app.contribution_sources.append(source)
    source.add(tg, "report", app.clock.now(), "w47")
    source.add(dc, "report", app.clock.now(), "w47")
    await app.dispatcher.run_line(owner_dc, "/tier set insider 5")
    await service(app).refresh(cid)
    assert await totals(app, cid) == {tg: 4, dc: 6}
    assert await service(app).tier(cid, dc) == "insider"

    code_reply = await app.dispatcher.run_line(lin_dc, "/link")
    link_code = next(w for w in code_reply.text.split() if w.isupper() and len(w) == 8)
    done = await app.dispatcher.run_line(lin_tg, f"/link {link_code}")
    assert not done.error, done.text

    # One record: the vote both accounts gave #1 and the report both filled in count once,
    # and the vote for what is now Lin's own suggestion no longer counts.
    await app.run_due()
    assert await totals(app, cid) == {dc: 5}
    rows = await service(app).ledger.rows(cid)
    assert sorted((r.kind, r.ref) for r in rows) == [
        ("report", "w47"),
        ("vote", str(ids[0])),
        ("vote", str(ids[1])),
    ]
    assert await service(app).tier(cid, dc) == "insider"
    holders = await service(app).tiers_repo.held(cid)
    assert [h.account_id for h in holders] == [dc]

    # A cog that still reports under the old account counts for the merged one.
    source.add(tg, "report", app.clock.now(), "w48")
    await service(app).refresh(cid)
    assert await totals(app, cid) == {dc: 8}
    again = await member(app, "Lin", platform="telegram", space="chat-9")
    assert again.member.account_id == dc
    profile = await app.dispatcher.run_line(again, "/profile")
    assert "Points: 8" in profile.plain_text()
    # And recomputing from the sources gives the same record.
    result = await service(app).recompute(cid)
    assert result.points_before == result.points_after == 8


async def test_merging_back_voids_the_earlier_alias(app: App) -> None:
    """An account merged into another and later the other way round (an identity that still
    resolved to the first): the earlier alias goes, no alias points an account at itself."""
    a = (await member(app, "ann", platform="discord", space="guild-1")).member.account_id
    b = (await member(app, "bo", platform="telegram", space="chat-9")).member.account_id
    repo = service(app).ledger
    now = app.clock.now()
    async with app.engine.begin() as conn:
        await merge_participation_accounts(conn, a, b, now)
    assert await repo.aliases() == [(a, b)]
    async with app.engine.begin() as conn:
        await merge_participation_accounts(conn, b, a, now)
    assert await repo.aliases() == [(b, a)]
