"""New members pressing at once, run as its own process by the two-process identity test.

Usage: new_members_child.py URL SCHEMA GO_FILE SEED
Waits until GO_FILE exists (so that two of these start together), then resolves fan0 …
fan399 in the space "room" through the identity cache, all at once, in an order shuffled by
SEED and in batches of 50 creations, and prints "user account" for each.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

from bot.core import runtime
from bot.core.clock import SystemClock
from bot.core.identity_cache import IdentityCache
from storage.core.identity import IdentityRepo
from storage.engine import create_engine

MEMBERS = 400


def _wait_for(go: Path) -> None:
    deadline = time.monotonic() + 60
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.001)


async def main(url: str, schema: str, go: str, seed: int) -> None:
    engine = create_engine(url, schema=schema or None)
    clock = SystemClock()
    cache = IdentityCache(IdentityRepo(engine), clock, seen_every=timedelta(minutes=5))
    cache.max_batch = 50
    users = [f"fan{i}" for i in range(MEMBERS)]
    random.Random(seed).shuffle(users)
    await asyncio.to_thread(_wait_for, Path(go))
    got = await asyncio.gather(
        *(cache.resolve("race", u, u.title(), "room", "Room", clock.now()) for u in users)
    )
    for user, found in zip(users, got, strict=True):
        print(user, found.identity.account_id)
    await cache.flush()
    await engine.dispose()


if __name__ == "__main__":
    runtime.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
