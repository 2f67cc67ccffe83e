"""A flash drop end to end through the console, on the fake clock."""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

from bot.adapters.console import ConsoleAdapter
from bot.adapters.console.adapter import OutEvent


def read_bytes(path: str | Path) -> bytes:
    return Path(path).read_bytes()


def read(path: str | Path) -> str:
    return Path(path).read_text("utf-8")


def write(path: Path, text: str) -> None:
    path.write_text(text, "utf-8")


def texts(events: list[OutEvent], to: str | None = None) -> str:
    return "\n".join(e.reply.plain_text() for e in events if to is None or e.to == to)


async def say(console: ConsoleAdapter, *lines: str) -> list[OutEvent]:
    out: list[OutEvent] = []
    for line in lines:
        out.extend(await console.handle_line(line))
    return out


async def test_flash_drop_from_reservations_to_waiting_list(console: ConsoleAdapter) -> None:
    # The owner creates a drop whose reservations open at once: it is announced with a button.
    out = await say(console, '/drop create "Redmi Note" 2 "2026-11-20 12:00" flash confirm=1d')
    assert "Drop #1" in texts(out)
    announced = [e for e in out if e.to == "channel"]
    assert announced and ("Reserve", "dr:1") in [
        (label.split()[-1], action) for label, action in announced[0].actions
    ]

    # Four fans reserve: by command, by button, by replying to the drop's message.
    await say(console, "/as alice fan")
    assert "Reserved" in texts(await say(console, "/reserve 1"))
    assert "already reserved" in texts(await say(console, "/reserve 1"))
    await say(console, "/as bob fan", "/drop show 1")
    assert "Reserved" in texts(await say(console, "!1"))
    await say(console, "/as carol fan", "/drop show 1")
    assert "Reserved" in texts(await say(console, "> 预约"))
    await say(console, "/as dave fan", "/reserve 1")

    # Too early to claim.
    assert "open at drop time" in texts(await say(console, "/claim 1"))

    # Drop time: the claim button opens and reservers are nudged privately.
    out = await say(console, "/advance 3h")
    assert "is live" in texts(out, "channel")
    assert {"alice", "bob", "carol", "dave"} <= {e.to for e in out if "Claim now" in texts([e])}

    # Two win, the third is waiting, a non-reserver is told so, a second press answers the same.
    await say(console, "/as alice")
    won = texts(await say(console, "/claim 1"))
    code = re.search(r"code: (\S+)\.", won)
    assert code is not None and "You got" in won
    again = texts(await say(console, "/claim 1"))
    assert "already got" in again and code.group(1) in again
    await say(console, "/as bob")
    assert "You got" in texts(await say(console, "/claim 1"))
    await say(console, "/as carol")
    assert "#1 on the waiting list" in texts(await say(console, "/claim 1"))
    await say(console, "/as dave")
    assert "#2 on the waiting list" in texts(await say(console, "/claim 1"))
    await say(console, "/as eve fan")
    assert "did not reserve" in texts(await say(console, "/claim 1"))

    # Alice confirms; Bob lets the deadline pass: his slot goes to Carol, first in line.
    await say(console, "/as alice")
    assert "Confirmed" in texts(await say(console, "/drop confirm 1"))
    out = await say(console, "/advance 1d")
    assert "sold out" in texts(out, "channel")
    assert "not confirmed in time" in texts(out, "bob")
    assert "freed up and it is yours" in texts(out, "carol")
    assert not [e for e in out if e.to == "dave" and "freed up" in texts([e])]
    await say(console, "/as bob")
    assert "deadline" in texts(await say(console, "/drop confirm 1"))
    assert "went to the waiting list" in texts(await say(console, "/claim 1"))

    # The owner's export lists the two slots, once each, within the quota.
    await say(console, "/as you")
    out = await say(console, "/drop export 1")
    assert out[0].file is not None
    raw = read_bytes(out[0].file)
    # UTF-8 with a byte-order mark, like the four-grid CSV, so Excel reads Chinese names right.
    assert raw.startswith(codecs.BOM_UTF8) and b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert sorted(r["name"] for r in rows) == ["alice", "carol"]
    assert sorted(r["slots"] for r in rows) == ["1", "2"]
    assert {r["source"] for r in rows} == {"flash", "waitlist"}
    stats = texts(await say(console, "/drop stats 1"))
    assert "Reservations: 4" in stats and "Claim presses: 7" in stats
    assert "Winners (units): 2 (2/2)" in stats


async def test_live_count_is_posted_at_a_bounded_rate(console: ConsoleAdapter) -> None:
    await say(console, '/drop create Phone 5 "2026-11-21 09:00"')
    for name in ("a1", "a2", "a3"):
        await say(console, f"/as {name} fan", "/reserve 1")
    # Within the update interval nothing new is posted; after it, one message with the count.
    out = await say(console, "/advance 30s")
    assert not [e for e in out if e.to == "channel"]
    out = await say(console, "/advance 1m")
    posts = [e for e in out if e.to == "channel"]
    assert len(posts) == 1 and "Reserved: 3" in texts(posts)
    # Nothing changed: nothing more is posted.
    out = await say(console, "/advance 2h")
    assert not [e for e in out if e.to == "channel"]
