"""Moderation end to end through the console: mutes, the word filter, the review queue,
reports and the audit log, with the permissions of every new command."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.adapters.console import ConsoleAdapter, OutEvent
from bot.core.app import App
from bot.core.clock import FakeClock


async def run(console: ConsoleAdapter, script: str) -> list[OutEvent]:
    out: list[OutEvent] = []
    for line in script.strip().splitlines():
        out.extend(await console.handle_line(line))
    return out


async def say(console: ConsoleAdapter, line: str) -> str:
    events = await console.handle_line(line)
    assert events, line
    return events[0].reply.plain_text()


def to(events: list[OutEvent], who: str) -> list[str]:
    return [e.reply.plain_text() for e in events if e.to == who]


async def test_a_muted_fan_cannot_suggest_or_vote_until_the_mute_ends(
    console: ConsoleAdapter, clock: FakeClock
) -> None:
    await run(console, "/as alice fan\n/suggest Offline maps\n/as bob fan\n/as admin admin")
    out = await console.handle_line('/mute bob 2h "spamming the board"')
    assert "bob is muted until 2026-11-20 11:00 UTC" in to(out, "admin")[0]
    assert any("spamming the board" in text for text in to(out, "bob"))  # told privately

    await console.handle_line("/as bob fan")
    for line in ("/vote 1", "/suggest Night mode for maps", "/unvote 1"):
        text = await say(console, line)
        assert "You are muted here" in text and "2h left" in text, line
        assert "spamming the board" in text
    await console.handle_line("/show 1")  # reading is still allowed
    assert "You are muted" in await say(console, "!1")  # the +1 button
    assert "You are muted" in await say(console, "> +1")  # a "+1" reply

    clock.advance(timedelta(hours=1, minutes=30))
    assert "30m left" in await say(console, "/vote 1")
    clock.advance(timedelta(minutes=31))
    assert "Voted for #1" in await say(console, "/vote 1")


async def test_mute_until_lifted_and_unmute(console: ConsoleAdapter) -> None:
    await run(console, "/as bob fan\n/as admin admin")
    assert "until you lift it" in await say(console, "/mute bob forever trolling")
    await console.handle_line("/as bob fan")
    text = await say(console, "/suggest Something new here")
    assert "until an admin lifts it" in text and "trolling" in text
    await console.handle_line("/as admin admin")
    out = await console.handle_line("/unmute bob")
    assert "bob may suggest and vote again" in to(out, "admin")[0]
    assert any("lifted" in text for text in to(out, "bob"))
    assert "is not muted" in await say(console, "/unmute bob")
    await console.handle_line("/as bob fan")
    assert "#1 Something new here" in await say(console, "/suggest Something new here")


async def test_mute_bad_input(console: ConsoleAdapter) -> None:
    await run(console, "/as bob fan\n/as admin admin")
    checks = {
        "/mute bob 3x spam": "not a mute length",
        "/mute bob 400d spam": "not a mute length",
        "/mute bob -1h spam": "not a mute length",
        "/mute bob 2h": "reason",
        "/mute nobody 2h spam": "No member called “nobody”",
        "/mute admin 2h spam": "cannot mute yourself",
        "/unmute '<b>@everyone</b>'": "No member called “<b>@everyone</b>”",
    }
    for line, expected in checks.items():
        events = await console.handle_line(line)
        assert events[0].reply.ephemeral, line
        assert expected in events[0].reply.plain_text(), line


async def test_the_word_filter_holds_posts_for_review(console: ConsoleAdapter) -> None:
    await run(console, "/as alice fan\n/as admin admin")
    assert "now wait for review" in await say(console, "/filter add Crypto")
    assert "now wait for review" in await say(console, "/filter add 赌博")
    assert "already filtered" in await say(console, "/filter add CRYPTO")
    assert "must not be empty" in await say(console, "/filter add \u200b\u200b")
    assert "crypto, 赌博" in await say(console, "/filter list")

    await console.handle_line("/as alice fan")
    held = await console.handle_line("/suggest Free CRYPTO for everyone")
    assert held[0].to == "alice" and "waits for an admin's review" in held[0].reply.plain_text()
    # Chinese with no spaces, and with characters slipped in between
    assert "waits for an admin" in await say(console, "/suggest 在线赌博功能")
    assert "waits for an admin" in await say(console, "/suggest 支持 赌\u200b·博 游戏")
    # whole words only for Latin words
    assert "#1 Cryptography settings" in await say(console, "/suggest Cryptography settings")

    await console.handle_line("/as admin admin")
    queue = await say(console, "/review")
    assert "Review queue: 3 waiting" in queue
    assert "contains “crypto”" in queue and "contains “赌博”" in queue
    assert "removed" not in queue
    assert "no longer filtered" in await say(console, "/filter remove crypto")
    assert "not in the filter" in await say(console, "/filter remove crypto")


async def test_review_queue_approve_and_reject(console: ConsoleAdapter) -> None:
    await run(console, "/as alice fan\n/as carol fan\n/as admin owner")
    assert "review_queue is now on" in await say(console, "/settings review_queue on")

    await console.handle_line("/as alice fan")
    held = await say(console, '/suggest "Dark mode" "easier on the eyes"')
    assert "queue item #1" in held
    assert "no suggestion" not in held
    await console.handle_line("/as carol fan")
    assert "queue item #2" in await say(console, "/suggest Buy followers here")
    assert "no suggestion #1" in await say(console, "/show 1")  # nothing posted yet

    await console.handle_line("/as admin admin")
    queue = await console.handle_line("/review")
    text = queue[0].reply.plain_text()
    assert "#1 📝 alice: Dark mode" in text and "#2 📝 carol: Buy followers here" in text
    assert [a for _, a in queue[0].actions] == ["rv:a:1", "rr:1", "rv:a:2", "rr:2"]

    approved = await console.handle_line("!1")  # approve #1 by button
    assert "posted as #1 Dark mode" in to(approved, "admin")[0]
    assert any("#1 Dark mode" in t and "reviewed" in t for t in to(approved, "channel"))
    assert any("approved and posted: #1 Dark mode" in t for t in to(approved, "alice"))
    assert "already decided" in await say(console, "/approve 1")

    await console.handle_line("/review")
    menu = await console.handle_line("!2")  # reject #2: a menu of reasons
    assert "Pick a reason" in menu[0].reply.plain_text()
    assert [a for _, a in menu[0].actions][:2] == ["rv:x:2:spam", "rv:x:2:offtopic"]
    rejected = await console.handle_line("!1")
    assert "spam or advertising" in to(rejected, "admin")[0]
    assert any("was not posted. Reason: spam or advertising" in t for t in to(rejected, "carol"))
    assert "The review queue is empty" in await say(console, "/review")

    # a typed reason, and the draft path (similar suggestion first, then "post mine anyway")
    await console.handle_line("/as carol fan")
    hint = await console.handle_line('/suggest "Dark mode please" "a dark theme"')
    assert "#1 Dark mode" in hint[0].reply.plain_text()  # the similar step comes first
    assert "queue item #3" in await say(console, "!2")
    assert "queue item #3" in await say(console, "!2")  # pressed twice: held once
    await console.handle_line("/as admin admin")
    out = await console.handle_line('/reject 3 "already on the roadmap"')
    assert any("Reason: already on the roadmap" in t for t in to(out, "carol"))
    await console.handle_line("/as carol fan")
    assert "already reviewed" in await say(console, "!2")


async def test_reports_reach_the_queue(console: ConsoleAdapter) -> None:
    await run(console, "/as alice fan\n/suggest Insulting title here\n/as bob fan\n/as carol fan")
    assert "went to the admins" in await say(console, '/flag 1 "this is abusive"')
    assert "already reported" in await say(console, "/flag 1 again")
    assert "no suggestion #9" in await say(console, "/flag 9 spam")
    await console.handle_line("/as alice fan")
    assert "your own suggestion" in await say(console, "/flag 1 mine")
    await console.handle_line("/as bob fan")
    bob = re.search(r"queue item #(\d+)", await say(console, "/flag 1 rude"))
    assert bob is not None
    second = bob.group(1)  # (PostgreSQL's sequence moved on at the refused repeat)

    await console.handle_line("/as admin admin")
    queue = await console.handle_line("/review")
    text = queue[0].reply.plain_text()
    assert "carol reported suggestion #1 Insulting title here" in text
    assert "reason: this is abusive" in text
    assert [a for _, a in queue[0].actions] == [
        "rv:h:1",
        "rv:d:1",
        f"rv:h:{second}",
        f"rv:d:{second}",
    ]
    assert f"Report #{second} dismissed" in await say(console, f"/dismiss {second}")
    assert "no report #5" in await say(console, "/dismiss 5")
    out = await console.handle_line("/uphold 1")
    assert "#1 is hidden" in to(out, "admin")[0]
    assert any("now hidden" in t for t in to(out, "carol"))
    assert "The review queue is empty" in await say(console, "/review")
    await console.handle_line("/as carol fan")
    assert "no suggestion #1" in await say(console, "/show 1")


async def test_the_audit_log_records_admin_and_owner_actions(console: ConsoleAdapter) -> None:
    await run(
        console,
        """
        /as alice fan
        /suggest Offline maps
        /as bob fan
        /as admin admin
        /status 1 planned "Coming soon"
        /hide 1
        /mute bob 1d spam
        /review
        /status 1 bogus
        /as owner owner
        /settings review_queue on
        """,
    )
    log = await say(console, "/audit")
    lines = log.splitlines()
    assert lines[0] == "Audit log, newest first"
    assert "owner (owner) · /settings key=review_queue value=on" in lines[1]
    assert "admin (admin) · /mute member=bob duration=1d reason=spam → bob" in lines[2]
    assert "/hide id=1" in lines[3]
    assert '/status id=1 status=planned note="Coming soon"' in lines[4]
    assert "2026-11-20 09:00 UTC" in lines[4]
    assert len(lines) == 5  # /review and the refused /status are not actions

    about_bob = await say(console, "/audit bob")
    assert "Audit log of bob" in about_bob and "/mute" in about_bob and "/hide" not in about_bob
    paged = await console.handle_line("/audit limit=2")
    assert len(paged[0].reply.plain_text().splitlines()) == 3
    assert [a for _, a in paged[0].actions] == ["au:2:0:2"]
    more = await say(console, "!1")
    assert "/hide id=1" in more and "/settings" not in more
    assert "must be at most 50" in await say(console, "/audit limit=99")


async def test_buttons_are_audited_and_chinese_summary(console: ConsoleAdapter) -> None:
    await run(console, "/as alice fan\n/as admin owner\n/settings review_queue on")
    await run(console, "/as alice fan\n/suggest 夜间模式")
    await run(console, "/as admin admin\n/language zh\n/review\n!1")
    log = await say(console, "/audit")
    assert "审计日志（最新在前）" in log
    assert "admin（管理员）· 按下了审核队列按钮（rv:a:1）" in log


@pytest.mark.parametrize(
    "line",
    [
        "/mute bob 1h spam",
        "/unmute bob",
        "/filter add word",
        "/filter remove word",
        "/filter list",
        "/audit",
        "/review",
        "/approve 1",
        "/reject 1 no",
        "/dismiss 1",
        "/uphold 1",
    ],
)
async def test_fans_are_refused_every_admin_command(console: ConsoleAdapter, line: str) -> None:
    await run(console, "/as bob fan\n/as mallory fan")
    text = await say(console, line)
    assert "This needs the admin role" in text


async def test_fans_are_refused_admin_buttons(app: App, console: ConsoleAdapter) -> None:
    await console.handle_line("/as mallory fan")
    ctx = await console.context()
    for action in ("rv:a:1", "rv:x:1:spam", "rv:h:1", "rv:d:1", "rr:1", "rq:5", "au:0:0:10"):
        reply = await app.dispatcher.press(ctx, action)
        assert "This needs the admin role" in reply.plain_text(), action


async def test_forged_buttons_are_refused(app: App, console: ConsoleAdapter) -> None:
    await console.handle_line("/as admin admin")
    ctx = await console.context()
    for action in ("rv:z:1", "rv:x:1:nope", "rv:a:abc", "rv", "au:0:0:999", "au:x", "rr:-1"):
        reply = await app.dispatcher.press(ctx, action)
        assert reply.error, action


async def test_messages_in_chinese(console: ConsoleAdapter) -> None:
    await run(console, "/as bob fan\n/language zh\n/as admin admin\n/filter add 广告")
    await console.handle_line("/mute bob 永久 刷屏")
    await console.handle_line("/as bob fan")
    text = await say(console, "/vote 1")
    assert "你在这里已被禁言，直到管理员解除" in text and "刷屏" in text
    await console.handle_line("/as admin admin")
    await console.handle_line("/unmute bob")
    await console.handle_line("/as bob fan")
    assert "正在等待管理员审核" in await say(console, "/suggest 免费广告位")
    await run(console, "/as admin admin\n/language zh")
    assert "“3x”不是有效的禁言时长" in await say(console, "/mute bob 3x 刷屏")
    assert "时长（duration）" in await say(console, "/help mute")
    queue = await say(console, "/review")
    assert "审核队列：1 条待处理" in queue and "含有“广告”" in queue


async def test_hostile_text_is_kept_as_typed(console: ConsoleAdapter) -> None:
    hostile = '<b>@everyone</b> & "quotes" 夜间模式 \u202etxt.exe'
    await run(console, "/as alice fan\n/suggest Offline maps\n/as bob fan")
    await console.handle_line(f"/flag 1 '{hostile}'")
    await console.handle_line("/as admin admin")
    assert hostile in await say(console, "/review")
    out = await console.handle_line(f"/mute bob 1h '{hostile}'")
    assert any(hostile in t for t in to(out, "bob"))
    assert "x" * 300 not in await say(console, "/flag 1 " + "x" * 301)
