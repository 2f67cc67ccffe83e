"""A migration killed in the middle, run by the migration crash test.

Usage: migrate_kill_child.py URL
Starts the upgrade as `fanloop migrate` does, under the database's lock; inside it applies the
first revision (`0001_core`, tables created in the open transaction), prints `inside` and waits
there for the parent's SIGKILL.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any

import storage.migrate as migrate
from storage.engine import create_engine

apply = migrate._apply


def apply_then_wait(sync_conn: Any, target: str) -> tuple[str, ...]:
    done = apply(sync_conn, "0001_core")
    print("inside", flush=True)
    threading.Event().wait()  # until killed
    return done


async def main(url: str) -> None:
    migrate._apply = apply_then_wait
    await migrate.upgrade(create_engine(url))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
