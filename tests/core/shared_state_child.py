"""A fanloop process on a PostgreSQL schema, driven line by line, for the shared-state tests.

Usage: shared_state_child.py URL SCHEMA DATA_DIR
Builds the App like `fanloop console` does (its change feed started), on the system clock, and
reads one JSON request per line on stdin; answers each with one JSON line on stdout:

- {"op": "line", "text": "/search dark"}: the console input line; {"events": [...]} (what
  the bot said, as `fanloop console --json` prints it).
- {"op": "listener"}: waits until the change feed listens; {"connections": n, "pid": p} (the
  server process of its connection, for the test that cuts it).
- {"op": "quit"}: stops.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

from bot.adapters.console import ConsoleAdapter
from bot.adapters.console.repl import LineReader
from bot.core import runtime
from bot.core.app import App
from bot.core.clock import SystemClock
from config.settings import FanloopSettings
from storage.engine import create_engine


async def answer(app: App, console: ConsoleAdapter, request: dict[str, Any]) -> dict[str, Any]:
    op = request["op"]
    if op == "line":
        events = await console.handle_line(request["text"])
        return {"events": [e.as_json() for e in events]}
    if op == "listener":
        listener = app.changes.listener
        assert listener is not None
        await asyncio.wait_for(listener.connected.wait(), 30)
        return {"connections": listener.connections, "pid": listener.server_pid}
    raise ValueError(f"unknown op {op!r}")


async def main(url: str, schema: str, data_dir: str) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    engine = create_engine(url, schema=schema)
    settings = FanloopSettings(data_dir=Path(data_dir))
    app = await App.create(settings, SystemClock(), engine=engine, migrate=False)
    app.start_feed()
    console = ConsoleAdapter(app)
    reader = LineReader(sys.stdin, interactive=False)
    try:
        while (line := await reader.read("")) is not None:
            request = json.loads(line)
            if request["op"] == "quit":
                break
            try:
                out = await answer(app, console, request)
            except Exception as exc:  # the test shows it
                logging.exception("request failed")
                out = {"error": repr(exc)}
            print(json.dumps(out, ensure_ascii=False), flush=True)
    finally:
        await app.close()
    return 0


if __name__ == "__main__":
    sys.exit(runtime.run(main(*sys.argv[1:4])))
