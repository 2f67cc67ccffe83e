"""What owners and fans are told about a drop matches what happened: what is left after a
sell-out, a lost draw, a cancelled drop, a cancel or an F-code given a second time."""

from __future__ import annotations

from bot.adapters.console import ConsoleAdapter


async def say(console: ConsoleAdapter, *lines: str) -> str:
    out = []
    for line in lines:
        out.extend(e.reply.plain_text() for e in await console.handle_line(line))
    return "\n".join(out)


async def test_the_list_and_my_drops_after_the_drop(console: ConsoleAdapter) -> None:
    await say(
        console,
        "/drop create Caps 1 2026-11-20T12:00 waitlist=0",
        "/drop create Shirts 1 2026-11-20T12:00 lottery waitlist=0",
        "/drop create Mugs 2 2026-11-21T12:00",
    )
    for fan in ("alice", "bob"):
        await say(console, f"/as {fan} fan", "/reserve 1", "/reserve 2", "/reserve 3")
    await say(console, "/as you owner", "/drop cancel 3", "/advance 3h", "/as alice", "/claim 1")
    await say(console, "/as bob", "/claim 1")
    listing = await say(console, "/drop list")
    assert "#1 Caps — dropped, sold out" in listing
    assert "#2 Shirts — dropped, sold out" in listing
    bob = await say(console, "/drop mine")
    alice = await say(console, "/as alice", "/drop mine")
    assert "#1 Caps: sold out before you got one" in bob
    assert "#3 Mugs: the drop was cancelled" in alice and "#3 Mugs: the drop was cancelled" in bob
    shirts = sorted(line for text in (alice, bob) for line in text.splitlines() if "Shirts" in line)
    assert shirts[0] == "#2 Shirts: not drawn this time" and shirts[1].startswith(
        "#2 Shirts: won 1"
    )
    assert "reserved (1)" not in alice + bob


async def test_a_second_cancel_and_a_second_fcode_tell_nobody(console: ConsoleAdapter) -> None:
    await say(console, "/drop create Mugs 2 2026-11-21T12:00", "/as alice fan", "/reserve 1")
    await say(console, "/as you owner")
    assert 'Drop "Mugs" is cancelled; 1 reservers are told.' in await say(console, "/drop cancel 1")
    again = await say(console, "/drop cancel 1")
    assert "was already cancelled" in again and "told then" in again

    await say(console, "/drop create Caps 3 2026-11-21T12:00")
    first = await say(console, "/drop fcodes 2 member=alice")
    assert "was sent to alice" in first and "You received an F-code" in first
    second = await say(console, "/drop fcodes 2 member=alice")
    assert "You received" not in second and "already has an F-code" in second
    both = await say(console, "/drop fcodes 2 3 member=alice")
    assert "either a number of codes or a member" in both
