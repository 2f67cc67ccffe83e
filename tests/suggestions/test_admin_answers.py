"""What admins see and are told: a hidden suggestion shown to them alone, the number of
members really told of a status change, and the end of a chain of merges."""

from __future__ import annotations

from bot.adapters.console import ConsoleAdapter


async def say(console: ConsoleAdapter, *lines: str) -> list[tuple[str, str, int]]:
    """(to, text, buttons) of everything the lines made the bot say."""
    out = []
    for line in lines:
        out.extend(
            (e.to, e.reply.plain_text(), len(e.actions)) for e in await console.handle_line(line)
        )
    return out


async def test_showing_a_hidden_suggestion_stays_with_the_admin(console: ConsoleAdapter) -> None:
    await say(console, '/suggest "Dark mode for the app"', "/hide 1")
    shown = await say(console, "/show 1")
    assert [(to, buttons) for to, _, buttons in shown] == [("you", 0)]
    assert "only admins see it" in shown[0][1]
    pressed = await say(console, "/new")
    assert all(to == "you" or "Dark mode" not in text for to, text, _ in pressed)


async def test_people_told_counts_only_those_who_hear(console: ConsoleAdapter) -> None:
    await say(console, '/suggest "Dark mode for the app"')
    for fan in ("alice", "bob", "carol"):
        await say(console, f"/as {fan} fan", "/vote 1")
    await say(console, "/notify off", "/as bob", "/notify off", "/as you owner")
    out = await say(console, "/status 1 planned")
    told = [text for to, text, _ in out if to == "channel"]
    assert told and "People told: 1." in told[0]
    assert sorted(to for to, _, _ in out if to != "channel") == ["alice"]


async def test_the_merge_hint_names_the_end_of_the_chain(console: ConsoleAdapter) -> None:
    await say(
        console,
        '/suggest "Dark mode for the app"',
        '/suggest "Night theme please" force',
        '/suggest "Black background everywhere" force',
        '/suggest "Something else entirely" force',
        "/merge 1 into 2",
        "/merge 2 into 3",
    )
    out = await say(console, "/merge 4 into 1")
    assert out[0][1] == "#1 is itself merged into #3: merge into #3."
