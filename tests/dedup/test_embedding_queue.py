"""The background queue of `Embeddings`, against a model that fails on some texts and at times
on everything, with the database stood in for by dicts."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

from hypothesis import example, given, settings
from hypothesis import strategies as st

from cogs.suggestions.embeddings import BATCH, STRIKES, Embeddings
from cogs.suggestions.similarity.hybrid import HybridIndex
from cogs.suggestions.similarity.semantic import Vectors
from storage.suggestions.posts import IndexRow
from tests.dedup.test_semantic import Hashed


class Board:
    """`SuggestionRepo.index_rows` and `VectorRepo.stored` / `save` over dicts."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.rows = {
            sid: IndexRow(sid, 1, text, "", "open", False) for sid, text in enumerate(texts)
        }
        self.saved: dict[int, bytes] = {}

    async def index_rows(self, ids: Sequence[int]) -> list[IndexRow]:
        return [self.rows[sid] for sid in ids if sid in self.rows]

    async def stored(self, model: str, ids: Sequence[int]) -> dict[int, tuple[str, bytes]]:
        return {}

    async def save(self, model: str, rows: Sequence[tuple[int, str, bytes]]) -> int:
        self.saved.update((sid, blob) for sid, _, blob in rows)
        return len(rows)


class Outages(Hashed):
    """Fails on any batch holding a `§`, and on every call of the outages: each is (calls
    that work before it, calls it lasts)."""

    def __init__(self, outages: Sequence[tuple[int, int]]) -> None:
        super().__init__("outages", 16, 0.1)
        self.down: set[int] = set()
        call = 0
        for up, length in outages:
            call += up
            self.down.update(range(call, call + length))
            call += length
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.calls += 1
        if self.calls - 1 in self.down:
            raise MemoryError("out of memory")
        if any("§" in text for text in texts):
            raise ValueError("cannot read §")
        return super().encode(texts)


@settings(max_examples=300, deadline=None)
# An outage that starts and ends inside one batch's tries, twice.
@example(poisoned=[False] * 5 + [True], order=random.Random(0), outages=[(0, 3), (6, 4)])
@given(
    poisoned=st.lists(st.booleans(), min_size=1, max_size=3 * BATCH),
    order=st.randoms(use_true_random=False),
    outages=st.lists(st.tuples(st.integers(0, 12), st.integers(1, 40)), max_size=STRIKES - 1),
)
def test_every_text_gets_its_vector_but_those_the_model_always_fails_on(
    poisoned: list[bool], order: random.Random, outages: list[tuple[int, int]]
) -> None:
    texts = [f"request {n}" + (" §" if bad else "") for n, bad in enumerate(poisoned)]
    board = Board(texts)
    model = Outages(outages)
    index = HybridIndex(model)

    async def run() -> Embeddings:
        embeddings = Embeddings(board, board, lambda t, d: t, lambda r: True, order)  # type: ignore[arg-type]
        embeddings.pause = lambda failures: 0.0
        for sid, text in enumerate(texts):
            index.put(sid, text, None)
        embeddings.queue(1, index, list(range(len(texts))))
        await embeddings.idle()
        await embeddings.close()
        return embeddings

    embeddings = asyncio.run(asyncio.wait_for(run(), 60))
    bad = {sid for sid, flag in enumerate(poisoned) if flag}
    # Fewer outages than STRIKES never set a readable text aside; an unreadable one always is.
    assert set(embeddings.set_aside) == bad
    assert set(index.missing()) == bad
    # Vectors stored for the others, and a set-aside mark (an empty vector) for these.
    assert {sid for sid, blob in board.saved.items() if blob} == set(range(len(texts))) - bad
    assert {sid for sid, blob in board.saved.items() if not blob} == bad
    assert embeddings.waiting() == 0 and embeddings.progress == {}


def test_communities_take_turns() -> None:
    """A board being re-embedded whole does not keep another community's suggestion waiting."""
    texts = [f"request {n}" for n in range(5 * BATCH)] + ["another community's request"]
    board = Board(texts)
    late = len(texts) - 1
    board.rows[late] = IndexRow(late, 2, texts[late], "", "open", False)
    model = Outages([])
    big, small = HybridIndex(model), HybridIndex(model)

    async def run() -> None:
        embeddings = Embeddings(board, board, lambda t, d: t, lambda r: True)  # type: ignore[arg-type]
        for sid in range(late):
            big.put(sid, texts[sid], None)
        small.put(late, texts[late], None)
        embeddings.queue(1, big, list(range(late)))
        embeddings.queue(2, small, [late])
        await embeddings.idle()
        await embeddings.close()

    asyncio.run(asyncio.wait_for(run(), 60))
    assert big.missing() == [] and small.missing() == []
    # The first batch of the big board, then the other community's suggestion.
    assert model.seen.index(texts[late]) == BATCH
