"""The whole suggestion loop end to end through the console adapter."""

from __future__ import annotations

from bot.adapters.console import ConsoleAdapter, OutEvent
from bot.core.app import App


def texts(events: list[OutEvent]) -> list[tuple[str, str]]:
    return [(e.to, e.reply.plain_text()) for e in events]


async def run(console: ConsoleAdapter, script: str) -> list[OutEvent]:
    out: list[OutEvent] = []
    for line in script.strip().splitlines():
        out.extend(await console.handle_line(line))
    return out


async def test_suggest_hint_vote_merge_status_top(console: ConsoleAdapter) -> None:
    await run(
        console,
        """
        /as alice fan
        /suggest "Dark mode for the app" "The white screen hurts at night"
        /as bob fan
    """,
    )
    hint = await console.handle_line('/suggest "Add a dark theme" "Night mode please"')
    assert hint[0].to == "bob" and hint[0].reply.ephemeral
    assert "#1 Dark mode for the app" in hint[0].reply.plain_text()
    assert [a for _, a in hint[0].actions] == ["sv:1", "sp:1"]
    voted = await console.handle_line("!1")
    assert "Votes now: 2" in voted[0].reply.plain_text()

    await run(
        console,
        """
        /as carol fan
        /suggest "Dark theme at night" "dark colours after sunset"
    """,
    )
    posted = await console.handle_line("!2")  # post mine anyway
    assert posted[0].to == "channel" and "#2 Dark theme at night" in posted[0].reply.plain_text()
    await console.handle_line("/as dave fan")
    reply = await console.handle_line("> me too!")  # a reply to the bot's post is a vote
    assert "Voted for #2" in reply[0].reply.plain_text()

    await console.handle_line("/as admin admin")
    merged = await console.handle_line("/merge 2 into 1")
    assert merged[0].to == "channel"
    assert "voters carried over: 2; votes now: 4" in merged[0].reply.plain_text()
    told = {e.to for e in merged[1:]}
    assert told == {"carol", "dave"}  # the duplicate's author and voters, not the admin

    status = await console.handle_line('/status 1 planned "Coming in 2.1"')
    assert "New → Planned" in status[0].reply.plain_text()
    assert {e.to for e in status[1:]} == {"alice", "bob", "carol", "dave"}
    assert all("Coming in 2.1" in e.reply.plain_text() for e in status[1:])

    top = await console.handle_line("/top")
    assert top[0].reply.plain_text().splitlines()[1].startswith("#1 Dark mode for the app — 👍 4")
    roadmap = await console.handle_line("/roadmap")
    assert "#1 Dark mode for the app" in roadmap[0].reply.plain_text()


async def test_opt_out_and_bad_input(console: ConsoleAdapter) -> None:
    out = await run(
        console,
        """
        /as alice fan
        /suggest "Offline maps" "Download a region"
        /as bob fan
        /vote 1
        /notify off
        /as admin admin
        /status 1 under_review
    """,
    )
    assert {e.to for e in out if e.to not in ("channel", "admin") and not e.reply.ephemeral} == {
        "alice"
    }
    checks = {
        "/suggest ab": "too short",
        "/vote abc": "must be a whole number",
        "/vote 42": "no suggestion #42",
        "/status 1 finished": "must be one of",
        "/merge 1 into 1": "cannot be merged into itself",
        "/frobnicate": "no command",
        "!9": "no button 9",
        "hello": "start with /",
    }
    for line, expected in checks.items():
        events = await console.handle_line(line)
        assert events and events[0].reply.ephemeral, line
        assert expected in events[0].reply.plain_text(), line


async def test_user_text_is_stored_as_typed(console: ConsoleAdapter, app: App) -> None:
    hostile = '<b>@everyone</b> & "quotes" 夜间模式'
    await console.handle_line("/as mallory fan")
    out = await console.handle_line(f"/suggest '{hostile}'")
    assert hostile in out[0].reply.plain_text()


async def test_buttons_and_replies_survive_a_restart(app: App, console: ConsoleAdapter) -> None:
    await run(
        console,
        """
        /as alice fan
        /suggest "Widgets on the home screen" "weather and calendar"
    """,
    )
    # A new process: new App and adapter on the same database.
    fresh_app = await App.create(app.settings, app.clock, engine=app.engine, migrate=False)
    fresh = ConsoleAdapter(fresh_app)
    fresh.last_public_message = console.last_public_message
    await fresh.handle_line("/as bob fan")
    assert "Voted for #1" in (await fresh.handle_line("> +1"))[0].reply.plain_text()
    ctx = await fresh.context("carol")
    reply = await fresh_app.dispatcher.press(ctx, "sv:1")  # the button on yesterday's message
    assert "Votes now: 3" in reply.text
