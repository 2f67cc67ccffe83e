"""Corrections, official responses and anonymous suggestions end to end through the console."""

from __future__ import annotations

from datetime import timedelta

from bot.adapters.console import ConsoleAdapter, OutEvent
from bot.core.app import App
from bot.core.clock import FakeClock


def text(events: list[OutEvent]) -> str:
    return "\n".join(e.reply.plain_text() for e in events)


async def run(console: ConsoleAdapter, script: str) -> list[OutEvent]:
    out: list[OutEvent] = []
    for line in script.strip().splitlines():
        out.extend(await console.handle_line(line.strip()))
    return out


async def test_author_edits_within_the_window_then_only_admins(
    console: ConsoleAdapter, app: App, clock: FakeClock
) -> None:
    await run(console, '/as alice fan\n/suggest "Dark mode for the app" "White hurts at night"')
    edited = await console.handle_line('/edit 1 "Dark mode for the whole app" | Also the widgets')
    assert edited[0].to == "alice" and edited[0].reply.ephemeral
    body = edited[0].reply.plain_text()
    assert "#1 Dark mode for the whole app" in body and "Also the widgets" in body
    assert "(edited)" in body

    await console.handle_line("/as bob fan")
    refused = await console.handle_line("/edit 1 | mine now")
    assert "not your suggestion" in text(refused)
    assert "not your suggestion" in text(await console.handle_line("/delete 1"))

    await console.handle_line("/as alice fan")
    clock.advance(timedelta(hours=1, minutes=1))
    late = await console.handle_line("/edit 1 | too late")
    assert "1h after posting" in text(late)

    await console.handle_line("/as admin admin")
    fixed = await console.handle_line("/edit 1 | Corrected by the team")
    assert "Corrected by the team" in fixed[0].reply.plain_text()
    assert [e.to for e in fixed[1:]] == ["alice"]  # the author is told of an admin's edit
    assert "An admin corrected your suggestion #1" in fixed[1].reply.plain_text()
    shown = await console.handle_line("/show 1")
    assert "Corrected by the team" in shown[0].reply.plain_text()
    # An admin's correction is in the audit log; the author's own edits are not.
    log = text(await console.handle_line("/audit")).splitlines()
    assert any('/edit id=1 details="Corrected by the team"' in line for line in log), log
    assert not any("alice (fan)" in line for line in log)


async def test_the_window_is_a_setting(console: ConsoleAdapter, clock: FakeClock) -> None:
    await run(console, "/as owner owner\n/settings edit_window 10m")
    await run(console, '/as alice fan\n/suggest "Offline maps for hiking" "Download a region"')
    clock.advance(timedelta(minutes=11))
    assert "10m after posting" in text(await console.handle_line("/delete 1"))


async def test_delete_hides_everywhere_and_restore_brings_it_back(
    console: ConsoleAdapter,
) -> None:
    await run(
        console,
        """
        /as alice fan
        /suggest "Dark mode for the app" "White hurts at night"
        /as bob fan
        /suggest "Export to CSV" "for spreadsheets"
        /as alice fan
        """,
    )
    gone = await console.handle_line("/delete 1")
    assert "#1 is deleted" in text(gone)
    assert "#1" not in text(await console.handle_line("/top"))
    assert "#1" not in text(await console.handle_line("/new"))
    assert "#1" not in text(await console.handle_line("/search dark mode"))
    assert "no suggestion #1" in text(await console.handle_line("/show 1"))
    assert "no suggestion #1" in text(await console.handle_line("/vote 1"))
    # The duplicate index no longer offers it: a similar post goes straight through.
    await console.handle_line("/as carol fan")
    posted = await console.handle_line('/suggest "Dark mode for the app please" "night"')
    assert posted[0].to == "channel" and "#3" in posted[0].reply.plain_text()

    assert "needs the admin role" in text(await console.handle_line("/restore 1"))
    await console.handle_line("/as admin admin")
    admin_view = await console.handle_line("/show 1")
    assert admin_view[0].reply.ephemeral and "Deleted" in text(admin_view)
    assert "is deleted" in text(await console.handle_line("/unhide 1"))
    assert "is deleted" in text(await console.handle_line("/edit 1 | new words"))
    back = await console.handle_line("/restore 1")
    assert "#1 Dark mode for the app is back" in text(back)
    assert "is not deleted" in text(await console.handle_line("/restore 1"))
    assert "#1 Dark mode" in text(await console.handle_line("/top"))
    # And the index has it again: a look-alike gets the hint.
    await console.handle_line("/as dave fan")
    hint = await console.handle_line('/suggest "Dark mode for the app" "dark colours"')
    assert hint[0].reply.ephemeral and "#1 Dark mode for the app" in text(hint)


async def test_an_admin_deletes_a_hidden_one_and_restore_keeps_it_hidden(
    console: ConsoleAdapter,
) -> None:
    await run(
        console,
        """
        /as alice fan
        /suggest "Spam spam spam" "buy now"
        /as admin admin
        /hide 1
        """,
    )
    deleted = await console.handle_line("/delete 1")
    assert [e.to for e in deleted[1:]] == ["alice"]
    assert "An admin deleted your suggestion #1" in deleted[1].reply.plain_text()
    assert "still hidden" in text(await console.handle_line("/restore 1"))


async def test_official_response_on_the_card_and_in_show(console: ConsoleAdapter) -> None:
    await run(
        console,
        """
        /as alice fan
        /suggest "Offline maps for hiking" "Download a region"
        /as bob fan
        /vote 1
        /as admin admin
        /status 1 planned "Q3"
        """,
    )
    set_ = await console.handle_line("/respond 1 We are building this with the maps team.")
    card = set_[0].reply
    assert set_[0].to == "channel"
    assert "Official response: We are building this with the maps team." in card.plain_text()
    assert "Note: Q3" in card.plain_text()  # the status note stays apart
    assert {e.to for e in set_[1:]} == {"alice", "bob"}
    assert "respond" not in [e.to for e in set_]
    await console.handle_line("/as bob fan")
    assert "Official response: We are building" in text(await console.handle_line("/show 1"))
    assert "needs the admin role" in text(await console.handle_line("/respond 1 hi"))
    await console.handle_line("/as admin admin")
    cleared = await console.handle_line("/respond 1")
    assert "removed" in text(cleared) and "Official response" not in text(cleared)
    assert "already has" in text(await console.handle_line("/respond 1"))


async def test_anonymous_suggestions(console: ConsoleAdapter) -> None:
    await run(console, '/as alice fan\n/suggest "Named post" "mine"')
    await run(console, "/as owner owner\n/settings anonymous_suggestions on")
    await console.handle_line("/as alice fan")
    posted = await console.handle_line('/suggest "A secret wish" "please"')
    body = text(posted)
    assert "alice" not in body and "Posted anonymously: only admins" in body
    await console.handle_line("/as bob fan")
    shown = await console.handle_line("/show 2")
    assert "alice" not in text(shown) and not shown[0].reply.ephemeral
    assert "A secret wish" not in text(await console.handle_line("/profile alice"))
    assert "Named post" in text(await console.handle_line("/profile alice"))
    await console.handle_line("/as admin admin")
    for_admin = await console.handle_line("/show 2")
    assert for_admin[0].reply.ephemeral
    assert "Posted anonymously by (only admins see this): alice" in text(for_admin)
    # Turning the setting off does not unmask what was posted anonymously.
    await run(console, "/as owner owner\n/settings anonymous_suggestions off\n/as bob fan")
    assert "alice" not in text(await console.handle_line("/show 2"))


async def test_hostile_input(console: ConsoleAdapter) -> None:
    await run(console, '/as alice fan\n/suggest "Dark mode for the app" "White hurts at night"')
    answers = {
        "/edit 0 | x y z": "at least 1",
        "/edit 2147483648 | more": "at most 2147483647",
        "/edit abc | more": "must be a whole number",
        "/edit 99 | more": "no suggestion #99",
        "/edit 1": "Give a new title",
        '/edit 1 "\u200b\u200d\u200b"': "too short",
        "/edit 1 " + "t" * 121: "at most 120",
        "/edit 1 | " + "d" * 2001: "at most 2000",
        "/edit 1 Dark mode for the app": "already says exactly that",
        "/delete -1": "at least 1",
        "/restore 1": "needs the admin role",
        "/respond 1 hi": "needs the admin role",
    }
    for line, expected in answers.items():
        out = await console.handle_line(line)
        assert len(out) == 1 and out[0].reply.error, line
        assert expected in text(out), (line, text(out))
    # Markup and control characters are kept as text, never interpreted; NULs are dropped.
    odd = '/edit 1 "<b>Dark</b> *mode* @everyone" | \x00line one\nline two'
    edited = text(await console.handle_line(odd))
    assert "<b>Dark</b> *mode* @everyone" in edited and "line one\nline two" in edited
    await console.handle_line("/as admin admin")
    long = "r" * 1001
    assert "at most 1000" in text(await console.handle_line(f"/respond 1 {long}"))
    assert "is not deleted" in text(await console.handle_line("/restore 1"))
    assert "no suggestion #5" in text(await console.handle_line("/restore 5"))


async def test_chinese_messages(console: ConsoleAdapter, clock: FakeClock) -> None:
    await run(console, "/as owner owner\n/settings language zh_cn")
    await run(console, '/as alice fan\n/suggest "深色模式" "晚上太亮了"')
    assert "✏️ #1 已更新" in text(await console.handle_line("/edit 1 | 还有小组件"))
    clock.advance(timedelta(hours=2))
    assert "发布后 1h 内才可以" in text(await console.handle_line("/delete 1"))
    await console.handle_line("/as admin admin")
    assert "官方回复：正在做" in text(await console.handle_line("/respond 1 正在做"))
    assert "🗑️ #1 已删除" in text(await console.handle_line("/delete 1"))


async def test_anonymous_through_the_review_queue(console: ConsoleAdapter) -> None:
    await run(
        console,
        """
        /as owner owner
        /settings review_queue on
        /settings anonymous_suggestions on
        /as alice fan
        /suggest "A secret wish" "please"
        /as admin admin
        """,
    )
    approved = await console.handle_line("/approve 1")
    posted = "\n".join(e.reply.plain_text() for e in approved if e.to == "channel")
    assert "A secret wish" in posted and "alice" not in posted
    assert "Posted anonymously by (only admins see this): alice" in text(
        await console.handle_line("/show 1")
    )
    await console.handle_line("/as bob fan")
    shown = text(await console.handle_line("/show 1"))
    assert "alice" not in shown and "Posted anonymously" in shown
