"""Ids the database's integer cannot hold and times far out of range get a clear, localized
answer from every command and button that takes them, on both databases; a drop time stored
before times were bounded does not make every scheduler tick fail."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.adapters.console import ConsoleAdapter
from bot.core.clock import FakeClock
from storage.drops.schema import drops

HUGE = [2**31, 2**63, 10**30]

ID_LINES = [
    "/vote {n}",
    "/unvote {n}",
    "/show {n}",
    "/merge {n} into 1",
    "/merge 1 into {n}",
    "/unmerge {n}",
    "/status {n} planned",
    "/hide {n}",
    "/claim {n}",
    "/reserve {n}",
    "/reserve 1 units={n}",
    "/unreserve {n}",
    "/drop show {n}",
    "/drop confirm {n}",
    "/drop cancel {n}",
    "/drop edit {n} quota=2",
    "/drop fcodes {n}",
    "/drop stats {n}",
    "/points reward {n} 1",
    "/report vote {n} love",
]
ACTIONS = ["sv:{n}", "sp:{n}", "ss:{n}", "dr:{n}", "dc:{n}", "dk:{n}", "fg:1:{n}:0", "fgp:{n}:0"]


async def _say(console: ConsoleAdapter, line: str) -> str:
    events = await console.handle_line(line)
    assert len(events) == 1, [e.reply.plain_text() for e in events]
    reply = events[0].reply
    assert reply.error and reply.ephemeral, reply.plain_text()
    return reply.plain_text()


@pytest.mark.parametrize("n", HUGE)
async def test_huge_ids_in_commands(
    console: ConsoleAdapter, caplog: pytest.LogCaptureFixture, n: int
) -> None:
    caplog.set_level(logging.ERROR)
    for line in ID_LINES:
        text = await _say(console, line.format(n=n))
        assert re.fullmatch(r"\w+ must be at most (2147483647|25)\.", text), (line, text)
    await console.handle_line("/language zh_CN")
    assert (await _say(console, f"/vote {n}")) == "编号（id） 不能大于 2147483647。"
    assert not caplog.records


@pytest.mark.parametrize("n", [*HUGE, -1])
async def test_huge_ids_in_buttons(
    console: ConsoleAdapter, caplog: pytest.LogCaptureFixture, n: int
) -> None:
    caplog.set_level(logging.ERROR)
    app = console.app
    for action in ACTIONS:
        reply = await app.dispatcher.press(await console.context(), action.format(n=n))
        assert reply.error and reply.text == "This button no longer works.", action
    await console.handle_line("/language zh_CN")
    reply = await app.dispatcher.press(await console.context(), f"sv:{n}")
    assert reply.text == "这个按钮已失效。"
    assert await app.dispatcher.relabel(await console.context(), f"sv:{n}", "👍 +1") is None
    assert not caplog.records


async def test_drop_times_out_of_range(console: ConsoleAdapter) -> None:
    assert (await _say(console, "/drop create Shirts 5 9999-12-31T23:00")) == (
        "drop must be between 2000-01-01 and 2100-01-01."
    )
    assert (await _say(console, "/drop create Shirts 5 2030-01-01")) == (
        "That time is too far ahead: a drop can be planned at most 3 years ahead."
    )
    assert (await _say(console, "/drop create Shirts 5 2027-01-01 confirm=99999999999d")) == (
        "confirm must be at most 366 days."
    )
    await console.handle_line("/language zh_CN")
    assert (await _say(console, "/drop create Shirts 5 9999-12-31T23:00")) == (
        "开售时间（drop） 必须在 2000-01-01 到 2100-01-01 之间。"
    )
    assert (await _say(console, "/drop create Shirts 5 2030-01-01")) == (
        "该时间太远了：活动最多只能提前 3 年安排。"
    )
    events = await console.handle_line("/drop create Shirts 5 2029-11-19")  # within 3 years
    assert not events[0].reply.error


async def test_a_stored_drop_in_year_9999_does_not_fail_every_tick(
    console: ConsoleAdapter, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A drop stored before times were bounded is left out of the due work, with one warning,
    and still shows and cancels."""
    app = console.app
    await console.handle_line("/drop create Shirts 5 2026-11-21T09:00")
    far = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    async with app.engine.begin() as conn:
        await conn.execute(update(drops).values(closes_at=far, drop_at=far))
    await console.handle_line("/settings timezone Asia/Shanghai")  # east of UTC: past 9999
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        clock.advance(timedelta(minutes=1))
        await app.run_due()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "drop 1: drop time 9999-12-31T23:00:00+00:00 is out of range; it has no scheduled work "
        "(cancel it)"
    ]
    shown = (await console.handle_line("/drop show 1"))[0].reply.plain_text()
    assert "9999-12-31 23:00 UTC" in shown
    listed = await console.handle_line("/drop list")
    assert not listed[0].reply.error
    cancelled = await console.handle_line("/drop cancel 1")
    assert not cancelled[0].reply.error, cancelled[0].reply.plain_text()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
