"""The background embedding queue of one community: whatever is queued is taken once, in a
random order per process, until it is queued again."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from cogs.suggestions.embeddings import _Queue
from cogs.suggestions.similarity.hybrid import HybridIndex

steps = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.lists(st.integers(0, 40), max_size=12)),
        st.tuples(st.just("take"), st.integers(1, 8)),
    ),
    max_size=40,
)


@given(steps=steps, seed=st.integers(0, 2**32 - 1))
def test_everything_queued_is_taken_once_until_queued_again(
    steps: list[tuple[str, object]], seed: int
) -> None:
    queue = _Queue(HybridIndex.__new__(HybridIndex), random.Random(seed))
    waiting: set[int] = set()
    for op, arg in steps:
        if op == "add":
            assert isinstance(arg, list)
            assert queue.add(arg) == len(set(arg) - waiting)  # what was not queued yet
            waiting |= set(arg)
        else:
            assert isinstance(arg, int)
            batch = queue.take(arg)
            assert len(batch) == min(arg, len(waiting)) == len(set(batch))
            assert set(batch) <= waiting
            waiting -= set(batch)
        assert len(queue) == len(waiting)
    assert set(queue.take(len(waiting) + 1)) == waiting and len(queue) == 0


def test_two_processes_take_a_board_in_different_orders() -> None:
    board = range(1000)
    first = _Queue(HybridIndex.__new__(HybridIndex), random.Random(1))
    second = _Queue(HybridIndex.__new__(HybridIndex), random.Random(2))
    first.add(board)
    second.add(board)
    a, b = first.take(100), second.take(100)
    assert len(set(a) & set(b)) < 30  # about 10 by chance; the same order would share 100
