"""How a fanloop process runs: its event loop and its garbage collector.

Both are tuned for bursts, where the event loop's own overhead and the collector's pauses are a
large part of a press's cost (docs/bursts.md):

- uvloop, when installed (it is a dependency wherever it builds), runs the event loop;
  `FANLOOP_EVENT_LOOP=asyncio` keeps the standard loop.
- The objects made at start-up (modules, catalogs, compiled statements) are moved out of the
  collector's sight (`gc.freeze`), and the youngest generation is collected less often: a burst
  allocates many short-lived objects (payloads, futures, rows), and with the default threshold
  of 700 the collector runs every few interactions.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

GEN0_THRESHOLD = 20_000  # allocations between two collections of the youngest generation


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when it is installed and not turned off; None for asyncio's own."""
    if os.environ.get("FANLOOP_EVENT_LOOP", "").strip().lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def event_loop_name() -> str:
    return "asyncio" if loop_factory() is None else "uvloop"


def tune_gc() -> None:
    """Freeze what exists now and collect the youngest generation less often."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to completion the way a fanloop process does (see the module's docstring)."""
    tune_gc()
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
