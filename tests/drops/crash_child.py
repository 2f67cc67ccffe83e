"""A claim burst run as its own process by the SIGKILL crash test.

Usage: crash_child.py URL SCHEMA DROP_ID OUT_FILE
Every reserver claims once (in a fixed shuffled order), each with the private message that
carries the code should it win (as the service passes it). A "won" answer is written to OUT_FILE
(one `account code` line, unbuffered) only after the engine acknowledged it, i.e. after its
batch committed: exactly what a fan would have been told.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from datetime import timedelta

from bot.core.clock import FakeClock
from cogs.drops.claims import ClaimEngine
from cogs.drops.redemption_codes import new_redemption_code
from devtools.bench.drops import DROP_AT, win_notices
from storage.drops.claims import ClaimStore
from storage.engine import create_engine


async def main(url: str, schema: str, drop_id: int, out: str) -> None:
    engine = create_engine(url, schema=schema or None)
    claims = ClaimEngine(
        ClaimStore(engine),
        FakeClock(DROP_AT + timedelta(seconds=1)),
        new_redemption_code,
        max_batch=64,
    )
    state = await claims.store.load(drop_id)
    assert state is not None
    order = list(state.reserved)
    random.Random(11).shuffle(order)
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    queue = iter(order)
    notices = await win_notices(engine, drop_id)
    community = notices.drop.community_id

    async def client() -> None:
        for account in queue:
            notice = notices.for_member(community, "console", str(account), "en")
            result = await claims.claim(drop_id, account, notice=notice)
            if result.status == "won":
                os.write(fd, f"{account} {result.code}\n".encode())

    await asyncio.gather(*(client() for _ in range(200)))
    await claims.close()
    os.close(fd)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
