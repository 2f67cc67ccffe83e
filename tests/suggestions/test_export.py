"""`/export suggestions` and `/export votes`: owners only, CSV in UTF-8 with a byte-order mark,
every row (hidden and merged ones marked), text a spreadsheet would run kept as text; written to a
file on the console, a document on Telegram and an attachment on Discord. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from bot.adapters.console import ConsoleAdapter
from bot.adapters.console.adapter import OutEvent


async def say(console: ConsoleAdapter, *lines: str) -> list[OutEvent]:
    out: list[OutEvent] = []
    for line in lines:
        out.extend(await console.handle_line(line))
    return out


def rows(event: OutEvent) -> list[list[str]]:
    assert event.file is not None
    raw = Path(event.file).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the byte-order mark
    assert b"\r\n" in raw
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


async def test_owner_exports_suggestions_and_votes(console: ConsoleAdapter) -> None:
    await say(
        console,
        "/as boss owner",
        '/suggest "夜间模式 Dark mode" "白天太亮, \\"really\\""',
        '/suggest "=HYPERLINK(\\"http://x\\")" force',
        '/suggest "A night theme" force',
        "/as alice fan",
        "/vote 1",
        "/vote 3",
        "/as bob fan",
        "/vote 3",
        "/as boss owner",
        "/merge 3 into 1",
        "/hide 2",
    )
    out = await say(console, "/export suggestions")
    assert "Exported 3 suggestions as CSV" in out[-1].reply.plain_text()
    assert out[-1].file is not None and Path(out[-1].file).name.endswith(".csv")
    table = rows(out[-1])
    assert table[0] == [
        "id",
        "title",
        "details",
        "category",
        "status",
        "status_note",
        "votes",
        "merged_into",
        "hidden",
        "author_id",
        "author",
        "created_at",
        "updated_at",
    ]
    by_id = {r[0]: r for r in table[1:]}
    assert len(by_id) == 3
    assert by_id["1"][1] == "夜间模式 Dark mode" and by_id["1"][2] == '白天太亮, "really"'
    assert by_id["1"][6] == "3"  # its author, alice, and bob (carried over by the merge)
    assert by_id["1"][10] == "boss"
    assert by_id["2"][1].startswith("'=HYPERLINK")  # kept as text in a spreadsheet
    assert by_id["2"][8] == "1"  # hidden, and still exported to the owner
    assert by_id["3"][4] == "duplicate" and by_id["3"][7] == "1"

    out = await say(console, "/export votes")
    table = rows(out[-1])
    assert table[0] == ["suggestion_id", "account_id", "voter", "voted_at", "carried_by_merge"]
    votes = sorted((r[0], r[2], r[4]) for r in table[1:])
    # Authors vote for their own; a merge carries the duplicate's voters over (marked), and the
    # duplicate keeps its own.
    assert votes == [
        ("1", "alice", "0"),
        ("1", "bob", "1"),
        ("1", "boss", "0"),
        ("2", "boss", "0"),
        ("3", "alice", "0"),
        ("3", "bob", "0"),
        ("3", "boss", "0"),
    ]


async def test_fans_and_admins_are_refused(console: ConsoleAdapter) -> None:
    await say(console, "/as boss owner", '/suggest "Dark mode" force')
    for who in ("/as fan1 fan", "/as mod admin"):
        for cmd in ("/export suggestions", "/export votes"):
            out = await say(console, who, cmd)
            assert out[-1].reply.error and out[-1].file is None, (who, cmd)


async def test_chinese_owner_sees_chinese(console: ConsoleAdapter) -> None:
    out = await say(
        console, "/as boss owner", "/settings language zh_cn", '/suggest "夜间模式" force'
    )
    out = await say(console, "/as zhang owner", "/export suggestions")
    assert "已导出 1 条需求" in out[-1].reply.plain_text()
