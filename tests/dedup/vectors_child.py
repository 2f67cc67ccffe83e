"""A process that gives a community's suggestions their vectors, for the tests of several
processes (tests/dedup/test_semantic_processes.py).

Usage: vectors_child.py URL SCHEMA DATA_DIR COMMUNITY_ID MODEL_NAME HOLD QUERY
Starts the App with the semantic extra's model under MODEL_NAME, prints {"ready": true} and
waits for a line on stdin; then builds the community's index, which queues every suggestion
without a stored vector for the background work. With HOLD > 0,
the model stops for good once it has embedded HOLD texts, after printing {"held": n}: the work
is stuck mid-board, as a process is when it is killed. Otherwise, once the queue is empty, it
prints {"embedded": n, "first": id}: the texts it embedded (or tried to: the model cannot
read a text holding `§`), and the first suggestion QUERY finds.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Sequence

from bot.core import runtime
from bot.core.app import App
from bot.core.clock import SystemClock
from cogs.suggestions.service import SuggestionService
from cogs.suggestions.similarity.hybrid import HybridIndex
from cogs.suggestions.similarity.semantic import DEFAULT_MODEL, Embedder, Vectors, load_embedder
from config.settings import FanloopSettings
from storage.engine import create_engine
from tests.dedup.models import Counting


class Held(Counting):
    """The real model under another name; stops for good at its `hold`-th text, and cannot
    read a text holding `§` (it raises on any batch that holds one)."""

    def __init__(self, model: Embedder, name: str, hold: int) -> None:
        super().__init__(model, name)
        self.hold = hold

    def encode(self, texts: Sequence[str]) -> Vectors:
        if self.hold and self.embedded + len(texts) > self.hold:
            print(json.dumps({"held": self.embedded}), flush=True)
            threading.Event().wait()  # never set: the work stops here until the kill
        if any("§" in text for text in texts):
            self.embedded += len(texts)  # tried
            raise ValueError("tokenizer: cannot read '§'")
        return super().encode(texts)


async def main(
    url: str, schema: str, data_dir: str, cid: str, name: str, hold: str, query: str
) -> int:
    engine = create_engine(url, schema=schema or None)
    settings = FanloopSettings.model_validate(
        {
            "data_dir": data_dir,
            "log_level": "WARNING",
            "cogs": ["cogs.suggestions"],
            "dedup_model": DEFAULT_MODEL,
        }
    )
    app = await App.create(settings, SystemClock(), engine=engine, migrate=False)
    model = Held(load_embedder(DEFAULT_MODEL), name, int(hold))
    service = app.services.get(SuggestionService)
    service._make_index = lambda: HybridIndex(model)
    try:
        print(json.dumps({"ready": True}), flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        await service.index(int(cid))
        await service.embeddings.idle()
        embedded = model.embedded
        hits = await service.similar(int(cid), query)
        print(json.dumps({"embedded": embedded, "first": hits[0][0].id}), flush=True)
    finally:
        await app.close()
    return 0


if __name__ == "__main__":
    sys.exit(runtime.run(main(*sys.argv[1:8])))
