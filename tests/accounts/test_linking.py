"""One person, one vote: linked accounts count once; one community across platforms."""

from __future__ import annotations

from datetime import timedelta

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from cogs.suggestions.service import SuggestionService
from tests.helpers import member


async def test_link_merges_votes_so_a_person_counts_once(app: App) -> None:
    s = app.services.get(SuggestionService)
    owner_dc = await member(app, "owner", Role.OWNER, platform="discord", space="guild-1")
    code_reply = await app.dispatcher.run_line(owner_dc, "/community code")
    join_code = code_reply.text.split(": ")[1].split(".")[0]
    owner_tg = await member(app, "owner", Role.OWNER, platform="telegram", space="chat-9")
    joined = await app.dispatcher.run_line(owner_tg, f"/join {join_code}")
    assert not joined.error, joined.text
    fan_tg = await member(app, "Lin", platform="telegram", space="chat-9")
    fan_dc = await member(app, "lin#1", platform="discord", space="guild-1")
    assert fan_tg.community.id == fan_dc.community.id == owner_dc.community.id

    sub = await s.submit(
        fan_dc.community.id, owner_dc.member.account_id, "Dark mode", "", None, force=True
    )
    assert sub.posted
    sid = sub.posted.id
    await s.vote(fan_dc.community.id, sid, fan_dc.member.account_id)
    await s.vote(fan_tg.community.id, sid, fan_tg.member.account_id)
    assert (await s.get(fan_dc.community.id, sid)).votes == 3

    reply = await app.dispatcher.run_line(fan_dc, "/link")
    code = next(w for w in reply.text.split() if w.isupper() and len(w) == 8)
    done = await app.dispatcher.run_line(fan_tg, f"/link {code}")
    assert not done.error and "discord, telegram" in done.text
    assert (await s.get(fan_dc.community.id, sid)).votes == 2  # the person counts once
    again = await member(app, "Lin", platform="telegram", space="chat-9")
    assert again.member.account_id == fan_dc.member.account_id
    _, added, _ = await s.vote(again.community.id, sid, again.member.account_id)
    assert not added
    used = await app.dispatcher.run_line(fan_tg, f"/link {code}")
    assert used.error


async def test_codes_expire_and_join_needs_a_fresh_place(app: App, clock: FakeClock) -> None:
    a = await member(app, "a", platform="discord", space="g")
    b = await member(app, "b", platform="telegram", space="t")
    reply = await app.dispatcher.run_line(a, "/link")
    code = next(w for w in reply.text.split() if w.isupper() and len(w) == 8)
    clock.advance(timedelta(minutes=16))
    assert (await app.dispatcher.run_line(b, f"/link {code}")).error
    assert (await app.dispatcher.run_line(b, "/link NOTACODE")).error

    owner_g = await member(app, "o", Role.OWNER, platform="discord", space="g")
    code_reply = await app.dispatcher.run_line(owner_g, "/community code")
    join_code = code_reply.text.split(": ")[1].split(".")[0]
    owner_t = await member(app, "o", Role.OWNER, platform="telegram", space="t")
    s = app.services.get(SuggestionService)
    await s.submit(
        owner_t.community.id, owner_t.member.account_id, "Own idea here", "", None, force=True
    )
    refused = await app.dispatcher.run_line(owner_t, f"/join {join_code}")
    assert refused.error and "already has suggestions" in refused.text
    fan = await member(app, "f", platform="telegram", space="t")
    assert (await app.dispatcher.run_line(fan, f"/join {join_code}")).error  # owners only


async def test_a_code_from_the_same_platform_links_nobody(app: App) -> None:
    s = app.services.get(SuggestionService)
    alice = await member(app, "alice", platform="telegram", space="chat-9")
    bob = await member(app, "bob", platform="telegram", space="chat-9")
    sub = await s.submit(alice.community.id, alice.member.account_id, "Dark mode", "", None)
    assert sub.posted
    await s.vote(bob.community.id, sub.posted.id, bob.member.account_id)

    reply = await app.dispatcher.run_line(alice, "/link")
    code = next(w for w in reply.text.split() if w.isupper() and len(w) == 8)
    taken = await app.dispatcher.run_line(bob, f"/link {code}")
    assert taken.error and "where you already have an account" in taken.text
    assert (await s.get(alice.community.id, sub.posted.id)).votes == 2
    bob_again = await member(app, "bob", platform="telegram", space="chat-9")
    assert bob_again.member.account_id == bob.member.account_id != alice.member.account_id
