"""A drop another process answers from memory (sold out, waiting list full) is read again when
the process running the phases lapses a win and promotes the waiting list: the promoted fan is
told they won, not that they wait. Two Apps, each with its own engine and change feed, on one
PostgreSQL schema and one fake clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.adapters.console import ConsoleAdapter
from bot.core.clock import FakeClock
from cogs.drops.service import DropService
from config.settings import FanloopSettings
from tests.feeds import two_listening_apps

pytestmark = pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)


@pytest_asyncio.fixture
async def pair(
    db_kind: str, tmp_path: Path, settings: FanloopSettings, clock: FakeClock
) -> AsyncIterator[tuple[ConsoleAdapter, ConsoleAdapter]]:
    async with two_listening_apps(db_kind, tmp_path, settings, clock) as (a, b):
        yield ConsoleAdapter(a), ConsoleAdapter(b)


async def say(console: ConsoleAdapter, *lines: str) -> str:
    out = []
    for line in lines:
        out.extend(e.reply.plain_text() for e in await console.handle_line(line))
    return "\n".join(out)


async def test_a_promotion_elsewhere_reaches_the_answer_from_memory(
    pair: tuple[ConsoleAdapter, ConsoleAdapter],
) -> None:
    a, b = pair
    await say(a, '/drop create "Redmi Note" 1 "2026-11-20 12:00" flash confirm=1d waitlist=1')
    for fan in ("alice", "bob", "carol"):
        assert "Reserved" in await say(a, f"/as {fan} fan", "/reserve 1")
    assert "is live" in await say(a, "/as you", "/advance 3h")

    assert "You got" in await say(a, "/as alice fan", "/claim 1")
    # B decides bob's claim: the last waiting place; the drop is final there (answered from
    # memory from now on).
    assert "#1 on the waiting list" in await say(b, "/as bob fan", "/claim 1")
    assert "sold out" in (await say(b, "/as carol fan", "/claim 1")).lower()
    assert 1 in b.app.services.get(DropService).claims._final

    # A runs the phases: alice did not confirm, her slot goes to bob.
    claims = b.app.services.get(DropService).claims
    old = claims._states[1]
    assert "not confirmed in time" in await say(a, "/as you", "/advance 1d")
    start = time.monotonic()
    # Until B hears of it: it stops answering from memory, or has already read the drop again
    # (its writer, counting carol's press, may reload it after the promotion, and the drop is
    # then final again, rightly: bob won, the waiting list is used up).
    while 1 in claims._final and claims._states.get(1) is old:
        # A bound against a hang only (the change feed takes milliseconds on a quiet machine).
        assert time.monotonic() - start < 30, "B still answers from its old memory"
        await asyncio.sleep(0.02)
    assert "already got" in await say(b, "/as bob fan", "/claim 1")
    assert "sold out" in (await say(b, "/as carol fan", "/claim 1")).lower()
