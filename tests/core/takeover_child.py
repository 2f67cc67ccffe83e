"""A fanloop process with the real cogs and the scheduler, run by the job takeover crash test.

Usage: takeover_child.py URL SCHEMA KEY OUT [STOP_AT]
Ticks every 0.2 s on the system clock with job leases of one second. With STOP_AT (an outbox
dedup key prefix or suffix, `prefix*` or `*suffix`), the first time scheduled work is about to
store a message with a matching key it writes "stopped" to OUT and waits forever, its lease
still renewed: the parent kills it there (SIGKILL), in the middle of the job. Without STOP_AT
it runs until the work of KEY has finished, writes "done" to OUT and exits.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.core.app import App
from bot.core.clock import SystemClock
from bot.core.scheduler import Scheduler
from config.settings import DEFAULT_COGS, FanloopSettings
from storage.engine import create_engine


def _matches(key: str | None, pattern: str) -> bool:
    if key is None:
        return False
    if pattern.startswith("*"):
        return key.endswith(pattern[1:])
    return key.startswith(pattern.rstrip("*"))


def _say(out: Path, text: str) -> None:
    out.write_text(text)


def stop_at(app: App, pattern: str, out: Path) -> None:
    outbox = app.outbox
    for name in ("announce", "notify"):
        original = getattr(outbox, name)

        async def stopping(*args: Any, _original: Any = original, **kwargs: Any) -> int:
            if _matches(kwargs.get("dedup_key"), pattern):
                _say(out, "stopped")
                await asyncio.Event().wait()
            return int(await _original(*args, **kwargs))

        setattr(outbox, name, stopping)


async def main(url: str, schema: str, key: str, out: Path, pattern: str | None) -> None:
    engine = create_engine(url, schema=schema or None)
    cogs = [*DEFAULT_COGS, *(["cogs.drops"] if "cogs.drops" not in DEFAULT_COGS else [])]
    settings = FanloopSettings(data_dir=out.parent / "data", cogs=cogs)
    app = await App.create(settings, SystemClock(), engine=engine, migrate=False)
    app.jobs.lease = timedelta(seconds=1)
    if pattern:
        stop_at(app, pattern, out)
    finished = asyncio.Event()

    async def watch() -> None:  # the last due work of every tick
        if await app.jobs.done(key):
            finished.set()

    app.due_work.append(watch)
    scheduler = Scheduler(app, interval=0.2)
    scheduler.start()
    try:
        await finished.wait()
        _say(out, "done")
    finally:
        await scheduler.stop()
        await app.close()


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(args[0], args[1], args[2], Path(args[3]), args[4] if len(args) > 4 else None))
