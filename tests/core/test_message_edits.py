"""The coalesced button edits every adapter uses (`bot.adapters.coalesced_edits`), on a fake
clock."""

from __future__ import annotations

import asyncio

from bot.adapters.coalesced_edits import EditLater, EditRefused, MessageEdits


class Clock:
    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds
        await asyncio.sleep(0)


class Platform:
    """A message showing a count; edits can be made to fail."""

    def __init__(self) -> None:
        self.count = 0  # the state stored
        self.shown: dict[str, int] = {}
        self.calls = 0
        self.failures: list[Exception] = []

    async def relabel(self, shown: int) -> int | None:
        return None if shown == self.count else self.count

    async def edit(self, key: str, value: int) -> bool:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        self.shown[key] = value
        return True


def make(platform: Platform, clock: Clock) -> MessageEdits[str, int]:
    return MessageEdits(
        platform.edit, min_interval=5.0, max_wait=60.0, now=clock.now, sleep=clock.sleep
    )


async def test_changes_meanwhile_fold_into_one_more_edit() -> None:
    platform, clock = Platform(), Clock()
    edits = make(platform, clock)
    for _ in range(10):
        platform.count += 1
        edits.request("card", 0, platform.relabel)
    await edits.settle()
    assert platform.shown == {"card": 10}
    assert platform.calls == 1 and edits.edits == 1
    platform.count += 1
    edits.request("card", 0, platform.relabel)
    await edits.settle()
    assert platform.shown == {"card": 11} and clock.slept == [5.0]  # the interval is kept
    edits.request("card", 0, platform.relabel)  # nothing changed: no edit
    await edits.settle()
    assert platform.calls == 2


async def test_a_rate_limit_is_waited_out_then_the_state_of_then_is_shown() -> None:
    platform, clock = Platform(), Clock()
    edits = make(platform, clock)
    platform.count = 1
    platform.failures = [EditLater(45.0)]
    edits.request("card", 0, platform.relabel)
    platform.count = 2  # a vote while the edit waits
    await edits.settle()
    assert 45.0 in clock.slept and platform.shown == {"card": 2}


async def test_a_refused_or_too_long_limited_edit_is_given_up() -> None:
    platform, clock = Platform(), Clock()
    edits = make(platform, clock)
    platform.count = 1
    platform.failures = [EditRefused("Unknown Message"), EditLater(600.0)]
    edits.request("gone", 0, platform.relabel)
    await edits.settle()
    edits.request("limited", 0, platform.relabel)
    await edits.settle()
    assert platform.shown == {} and platform.calls == 2 and 600.0 not in clock.slept
    edits.request("gone", 0, platform.relabel)  # a later change tries again
    await edits.settle()
    assert platform.shown == {"gone": 1}
