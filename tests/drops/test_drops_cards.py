"""What a drop's card shows and who gets it, through the console: the confirmation window on
the card (as a duration typed, in both languages), and the owner gets the card once, not a
private copy beside the public one."""

from __future__ import annotations

from bot.adapters.console import ConsoleAdapter
from bot.adapters.console.adapter import CHANNEL, OutEvent


async def say(console: ConsoleAdapter, *lines: str) -> list[OutEvent]:
    out: list[OutEvent] = []
    for line in lines:
        out.extend(await console.handle_line(line))
    return out


def cards(events: list[OutEvent]) -> list[OutEvent]:
    """The events that show a drop's card (its fields)."""
    return [e for e in events if e.reply.fields]


def field(event: OutEvent, name: str) -> str:
    return next(f.value for f in event.reply.fields if f.name == name)


async def test_the_card_shows_the_confirmation_window(console: ConsoleAdapter) -> None:
    out = await say(console, '/drop create Phone 5 "2026-11-21 09:00" confirm=36h')
    [card] = cards(out)
    assert field(card, "Time to confirm a win") == "1d12h"
    shown = await say(console, "/drop show 1")
    assert field(cards(shown)[0], "Time to confirm a win") == "1d12h"
    # The default window (2 days), in Chinese.
    await say(console, "/settings language zh_cn", '/drop create 耳机 5 "2026-11-21 09:00"')
    shown = await say(console, "/drop show 2")
    assert field(cards(shown)[0], "获得名额后的确认时限") == "2d"


async def test_the_owner_gets_a_drop_open_at_once_once(console: ConsoleAdapter) -> None:
    out = await say(console, '/drop create Phone 5 "2026-11-21 09:00" confirm=1d')
    [card] = cards(out)
    assert card.to == CHANNEL and ("📝 Reserve", "dr:1") in card.actions
    [answer] = [e for e in out if e.to == "you"]
    assert answer.reply.ephemeral and not answer.reply.fields
    text = answer.reply.text
    assert "posted for everyone" in text and "2026-11-21 09:00 UTC" in text
    # An edit after opening changes the public card; the owner is answered in a line.
    out = await say(console, "/drop edit 1 description=Blue")
    [card] = cards(out)
    assert card.to == CHANNEL and "Blue" in card.reply.text
    [answer] = [e for e in out if e.to == "you"]
    assert (
        not answer.reply.fields and "Its card for everyone shows the change." in answer.reply.text
    )
    await say(console, "/settings language zh_cn")
    out = await say(console, '/drop create 耳机 5 "2026-11-21 09:00"')
    assert [e.to for e in cards(out)] == [CHANNEL]
    assert "已向所有人发布" in next(e for e in out if e.to == "you").reply.text


async def test_a_drop_opening_later_is_previewed_privately_then_posted(
    console: ConsoleAdapter,
) -> None:
    out = await say(
        console, '/drop create Phone 5 "2026-11-21 09:00" opens="2026-11-20 12:00" confirm=1d'
    )
    [preview] = cards(out)
    assert preview.to == "you" and preview.reply.ephemeral and preview.actions == []
    assert "Reservations open 2026-11-20 12:00 UTC" in preview.reply.text
    out = await say(console, "/advance 3h")
    assert [e.to for e in cards(out)] == [CHANNEL]
