"""Presses answered from memory (a sold-out drop) are counted a moment later by the claim
engine's writer; the engine forgetting the drop meanwhile (a phase ran, an owner edited it, a
change came from another process) must not lose them from the statistics."""

from __future__ import annotations

import weakref

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App
from cogs.drops.service import DropService

MOST = 6  # presses in one example
SET_UP: weakref.WeakSet[App] = weakref.WeakSet()


async def _say(console: ConsoleAdapter, *lines: str) -> str:
    out = []
    for line in lines:
        out.extend(e.reply.plain_text() for e in await console.handle_line(line))
    return "\n".join(out)


async def _sold_out_drop(console: ConsoleAdapter, fans: int) -> None:
    await _say(console, '/drop create "Redmi Note" 1 "2026-11-20 12:00" flash waitlist=0')
    for i in range(fans):
        assert "Reserved" in await _say(console, f"/as fan{i} fan", "/reserve 1")
    assert "is live" in await _say(console, "/as you", "/advance 3h")
    assert "You got" in await _say(console, "/as fan0 fan", "/claim 1")


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(forget_after=st.lists(st.booleans(), min_size=1, max_size=MOST))
async def test_presses_answered_from_memory_are_counted_whatever_is_forgotten(
    console: ConsoleAdapter, forget_after: list[bool]
) -> None:
    claims = console.app.services.get(DropService).claims
    if console.app not in SET_UP:  # the first example on this database sets the drop up
        await _sold_out_drop(console, fans=MOST + 1)
        SET_UP.add(console.app)
    before = await _say(console, "/as you", "/drop stats 1")
    for i, forget in enumerate(forget_after, start=1):
        assert "sold out" in (await _say(console, f"/as fan{i} fan", "/claim 1")).lower()
        if forget:
            claims.invalidate(1)
    await claims.flush()
    after = await _say(console, "/as you", "/drop stats 1")
    counted = [
        int(row.split(": ")[1])
        for stats in (before, after)
        for row in stats.splitlines()
        if row.startswith("Claim presses")
    ]
    assert counted[1] - counted[0] == len(forget_after)
