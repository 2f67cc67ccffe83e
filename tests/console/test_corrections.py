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
    assert "alice" not in body and "Posted without your name" in body
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
