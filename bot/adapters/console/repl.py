"""Reading lines from a terminal or a pipe and printing what the bot says."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TextIO

from bot.adapters.console.adapter import CHANNEL, ConsoleAdapter, OutEvent


def render_text(event: OutEvent, *, only_you: str) -> str:
    reply = event.reply
    if event.to == CHANNEL:
        head = "[channel]"
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
    if event.actions:
        lines.append(
            "    " + "  ".join(f"[{i}] {label}" for i, (label, _a) in enumerate(event.actions, 1))
        )
    return "\n".join(lines)


async def run_console(
    adapter: ConsoleAdapter,
    *,
    as_json: bool,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> None:
    interactive = stdin.isatty()
    loop = asyncio.get_running_loop()
    ctx = await adapter.context()
    only_you = ctx.t("console.only_you")
    if interactive and not as_json:
        print(ctx.t("console.welcome"), file=stdout)
    while True:
        if interactive:
            try:
                line = await loop.run_in_executor(None, input, f"{adapter.current}> ")
            except EOFError:
                break
        else:
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
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
