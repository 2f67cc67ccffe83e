"""A burst of "+1" presses run as its own process by the SIGKILL crash test.

Usage: crash_child.py URL SCHEMA DATA_DIR SUGGESTION_ID MEMBERS OUT_FILE
Members fan0 … fan{MEMBERS-1} press the +1 button of the suggestion once each, in a fixed
shuffled order, 300 at a time, each press carrying the receipt ("crash", "press-<i>") as a
platform's delivery would. A press answered "voted" is written to OUT_FILE (its member's
number, unbuffered) only after the answer came back, i.e. after its batch committed: exactly
what a fan would have been told. Run again after a kill, it delivers the same presses again.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys

from bot.core.app import App
from bot.core.clock import SystemClock
from bot.core.commands import Role
from bot.core.context import Receipt
from cogs.suggestions.service import SuggestionService
from config.settings import FanloopSettings
from storage.engine import create_engine

PLATFORM, SPACE = "crash", "fans"


async def main(url: str, schema: str, data_dir: str, sid: int, n: int, out: str) -> None:
    engine = create_engine(url, schema=schema or None)
    settings = FanloopSettings.model_validate(
        {"data_dir": data_dir, "log_level": "WARNING", "cogs": ["cogs.suggestions"]}
    )
    app = await App.create(settings, SystemClock(), engine=engine, migrate=False)
    service = app.services.get(SuggestionService)
    service.writer.max_batch = 64  # many commits, so the kill lands between two of them
    order = list(range(n))
    random.Random(7).shuffle(order)
    queue = iter(order)
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    async def client() -> None:
        for i in queue:
            ctx = await app.context(
                platform=PLATFORM,
                space_id=SPACE,
                space_name=SPACE,
                user_id=f"fan{i}",
                display_name=f"fan{i}",
                role=Role.FAN,
                receipt=Receipt(PLATFORM, f"press-{i}"),
            )
            _row, voted, _ = await service.toggle(
                ctx.community.id, sid, ctx.member.account_id, receipt=ctx.receipt
            )
            if voted:
                os.write(fd, f"{i}\n".encode())

    await asyncio.gather(*(client() for _ in range(300)))
    os.close(fd)
    await app.close()


if __name__ == "__main__":
    url, schema, data_dir, sid, n, out = sys.argv[1:7]
    asyncio.run(main(url, schema, data_dir, int(sid), int(n), out))
