"""A lottery end to end through the console; the draw recomputed independently."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.adapters.console.adapter import OutEvent
from bot.cli import main as fanloop
from bot.core.app import App
from cogs.drops.service import DropService
from cogs.drops.verify import check_stored_draw


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


def field(text: str, name: str) -> str:
    m = re.search(rf"{re.escape(name)}: ([0-9a-f]{{64}})", text)
    assert m, f"{name} not in {text!r}"
    return m.group(1)


async def test_lottery_is_verifiable(
    console: ConsoleAdapter, app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    out = await say(
        console,
        '/drop create "Xiaomi 17" 3 "2026-11-21 09:00" lottery opens="2026-11-20 10:00" '
        'closes="2026-11-21 08:00"',
    )
    assert "lottery" in texts(out).lower()
    # Nothing is announced before reservations open; then the commitment is published.
    out = await say(console, "/advance 1h")
    opening = texts(out, "channel")
    commitment = field(opening, "Draw commitment sha256(seed)")
    fans = [f"fan{i}" for i in range(8)]
    for name in fans:
        await say(console, f"/as {name} fan", "/reserve 1")
    await say(console, "/as fan0")
    assert "lottery" in texts(await say(console, "/claim 1"))
    assert "has not happened" in texts(await say(console, "/drop draw 1"))

    # Drop time: the draw reveals the seed and the entrant list's hash.
    out = await say(console, "/advance 1d")
    result = texts(out, "channel")
    assert "3 winners drawn among 8 entrants" in result
    seed = field(result, "Seed")
    entrants_hash = field(result, "Entrant list sha256")
    told = {e.to for e in out if "You won the draw" in texts([e])}
    assert len(told) == 3

    # Anyone gets the entrant list and recomputes the draw with nothing but hashlib.
    out = await say(console, "/drop entrants 1")
    assert out[0].file is not None
    entrant_file = Path(out[0].file)
    body = read(entrant_file)
    assert body.splitlines()[0] == "account_id,units,handle"
    rows = [ln.split(",") for ln in body.splitlines()[1:]]
    assert len(rows) == 8
    raw_seed = bytes.fromhex(seed)
    assert hashlib.sha256(raw_seed).hexdigest() == commitment
    hashed = "".join(f"{a},{u}\n" for a, u, _ in rows)
    assert hashlib.sha256(hashed.encode()).hexdigest() == entrants_hash
    ids = [int(a) for a, _, _ in rows]

    def key(a: int) -> bytes:
        return hashlib.sha256(raw_seed + b":" + str(a).encode()).digest()

    order = sorted(ids, key=lambda a: (key(a), a))
    # Each line's handle is the entrant's draw key's first 12 hex digits: a fan finds their
    # own line by the handle `/drop mine` (and `/drop entrants`) shows them.
    handles = {int(a): h for a, _, h in rows}
    assert all(handles[a] == key(a).hex()[:12] for a in ids)
    for name in ("fan3", "fan5"):
        mine = texts(await say(console, f"/as {name}", "/drop mine"))
        shown = re.search(r"your handle in the entrant list: ([0-9a-f]{12})", mine)
        assert shown and list(handles.values()).count(shown.group(1)) == 1
        listed = texts(await say(console, "/drop entrants 1"))
        assert f"You are in it as {shown.group(1)}" in listed
        account = next(a for a, h in handles.items() if h == shown.group(1))
        assert (await app.identity.display_names([account]))[account] == name
    await say(console, "/as outsider fan", "/language zh_cn")
    assert "代号" not in texts(await say(console, "/drop entrants 1"))
    await say(console, "/as fan0")
    expected_winners = set(order[:3])
    names = await app.identity.display_names(list(expected_winners))
    assert {names[a] for a in expected_winners} == told

    # The stored winners agree, and so does `fanloop verify-draw`.
    svc = app.services.get(DropService)
    assert {a for a, _ in await svc.wins.winners(1)} == expected_winners
    check = await check_stored_draw(app.engine, 1)
    assert check.ok and [a for a, _ in check.winners] == order[:3]
    base = ["verify-draw", "--entrants", str(entrant_file), "--slots", "3"]
    code = fanloop(
        [*base, "--seed", seed, "--commitment", commitment, "--entrants-hash", entrants_hash]
    )
    printed = capsys.readouterr().out
    assert code == 0 and "MISMATCH" not in printed
    assert printed.strip().splitlines()[-3:] == [f"{a},1,{handles[a]}" for a in order[:3]]
    assert "entrant handles:         OK" in printed

    # A tampered seed or list is caught.
    bad_seed = ("0" if seed[0] != "0" else "1") + seed[1:]
    assert fanloop([*base, "--seed", bad_seed, "--commitment", commitment]) == 1
    first_handle = handles[ids[0]]
    write(
        entrant_file, body.replace(first_handle, "0" * 12 if first_handle[0] != "0" else "1" * 12)
    )
    assert fanloop([*base, "--seed", seed, "--entrants-hash", entrants_hash]) == 1
    assert "handle" in capsys.readouterr().err
    write(entrant_file, body + "999999,1\n")
    assert fanloop([*base, "--seed", seed, "--entrants-hash", entrants_hash]) == 1

    # Losers wait in draw order; a winner who does not confirm hands the slot to the next one.
    first, rest = order[0], order[3:]
    names = await app.identity.display_names([first, rest[0]])
    cid = (await console.context()).community.id
    for winner in order[1:3]:
        await svc.confirm(cid, 1, winner)
    out = await say(console, "/advance 2d")
    assert "not confirmed in time" in texts(out, names[first])
    assert "freed up and it is yours" in texts(out, names[rest[0]])
    assert {a for a, _ in await svc.wins.winners(1)} == {*order[1:3], rest[0]}
    assert (await check_stored_draw(app.engine, 1)).ok
