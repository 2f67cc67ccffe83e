"""Reading lines from a terminal or a pipe and printing what the bot says."""

from __future__ import annotations

import asyncio
import json
import queue
import sys
import threading
from typing import TextIO

from bot.adapters.console.adapter import CHANNEL, ConsoleAdapter, OutEvent


def render_text(event: OutEvent, *, only_you: str) -> str:
    reply = event.reply
    if event.to == CHANNEL:
        head = "[channel ↻]" if event.update else "[channel]"
    elif reply.ephemeral:
        head = f"[{event.to} · {only_you}]"
    else:
        head = f"[→ {event.to}]"
    body = reply.plain_text().splitlines() or [""]
    lines = [f"{head} {body[0]}"] + [f"    {b}" for b in body[1:]]
    if event.image:
        lines.append(f"    (image: {event.image})")
    if event.file:
        lines.append(f"    (file: {event.file})")
    for link in reply.links:
        lines.append(f"    {link.label}: {link.url}")
    if event.actions:
        lines.append(
            "    " + "  ".join(f"[{i}] {label}" for i, (label, _a) in enumerate(event.actions, 1))
        )
    return "\n".join(lines)


class LineReader:
    """Reads lines in a thread of its own, one when asked: a daemon thread, so that a stop
    (Ctrl-C) does not wait for a line that never comes. `read` gives None at the end of input."""

    def __init__(self, stdin: TextIO, *, interactive: bool) -> None:
        self.stdin = stdin
        self.interactive = interactive
        self._asks: queue.SimpleQueue[tuple[str, asyncio.Future[str | None]]] = queue.SimpleQueue()
        threading.Thread(target=self._run, name="console-input", daemon=True).start()

    async def read(self, prompt: str) -> str | None:
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._asks.put((prompt, future))
        return await future

    def _run(self) -> None:
        while True:
            prompt, future = self._asks.get()
            line: str | None
            try:
                line = input(prompt) if self.interactive else (self.stdin.readline() or None)
            except (EOFError, KeyboardInterrupt, OSError, ValueError):
                line = None
            try:
                future.get_loop().call_soon_threadsafe(_settle, future, line)
            except RuntimeError:  # the loop is closed: the console has stopped
                return


def _settle(future: asyncio.Future[str | None], line: str | None) -> None:
    if not future.done():
        future.set_result(line)


async def run_console(
    adapter: ConsoleAdapter,
    *,
    as_json: bool,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> None:
    interactive = stdin.isatty()
    reader = LineReader(stdin, interactive=interactive)
    ctx = await adapter.context()
    only_you = ctx.t("console.only_you")
    if interactive and not as_json:
        print(ctx.t("console.welcome"), file=stdout)
    while True:
        line = await reader.read(f"{adapter.current}> ")
        if line is None:
            break
        if line.strip() in ("/quit", "/exit"):
            break
        if not as_json and not interactive and line.strip():
            print(f"{adapter.current}> {line.rstrip()}", file=stdout)
        for event in await adapter.handle_line(line):
            if as_json:
                print(json.dumps(event.as_json(), ensure_ascii=False), file=stdout)
            else:
                print(render_text(event, only_you=only_you), file=stdout)
        stdout.flush()
