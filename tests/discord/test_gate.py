"""The priority gate: bounded, most urgent first, then first come; one waiter per freed slot."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.discord.gate import ACK, ANSWER, WORK, PriorityGate


async def test_serves_by_priority_then_arrival() -> None:
    gate = PriorityGate(1)
    served: list[str] = []
    await gate.acquire(WORK)  # the only slot is taken

    async def wait(name: str, priority: int) -> None:
        async with gate.slot(priority):
            served.append(name)

    tasks = [
        asyncio.create_task(wait(name, prio))
        for name, prio in [("w1", WORK), ("a1", ACK), ("f1", ANSWER), ("a2", ACK), ("w2", WORK)]
    ]
    await asyncio.sleep(0)
    assert gate.waiting == 5
    gate.release()
    await asyncio.gather(*tasks)
    assert served == ["a1", "a2", "f1", "w1", "w2"]


async def test_a_cancelled_waiter_passes_its_slot_on() -> None:
    gate = PriorityGate(1)
    await gate.acquire(ACK)
    cancelled = asyncio.create_task(gate.acquire(ACK))
    later = asyncio.create_task(gate.acquire(WORK))
    await asyncio.sleep(0)
    cancelled.cancel()
    gate.release()
    await asyncio.wait_for(later, 1)
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    gate.release()
    await asyncio.wait_for(gate.acquire(WORK), 1)  # the slot is free again


@settings(max_examples=50, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=4),
    jobs=st.lists(st.tuples(st.sampled_from([ACK, ANSWER, WORK]), st.integers(0, 3)), max_size=30),
)
async def test_never_more_than_its_size_and_everyone_is_served(
    size: int, jobs: list[tuple[int, int]]
) -> None:
    gate = PriorityGate(size)
    inside = 0
    peak = 0
    done = 0

    async def job(priority: int, steps: int) -> None:
        nonlocal inside, peak, done
        async with gate.slot(priority):
            inside += 1
            peak = max(peak, inside)
            for _ in range(steps):
                await asyncio.sleep(0)
            inside -= 1
            done += 1

    await asyncio.wait_for(asyncio.gather(*(job(p, n) for p, n in jobs)), 5)
    assert peak <= size and done == len(jobs) and inside == 0
