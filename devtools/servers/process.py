"""The local protocol servers for the benchmarks: in a child process of their own (so that the
figures are the bot's and not the server's), or inline in the bench's own event loop (the old
way, kept for comparison).

`local_server("discord" | "telegram", where)` starts one and gives its port; it stops the server
when the block ends. The server is listening when the port arrives: the child sends it only
after its socket is bound. The benchmarks drive the server through its `/_fake/...` control
routes in both modes, so that the two modes run the same bench code.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
from collections.abc import AsyncIterator
from multiprocessing.connection import Connection
from typing import Any, Literal

Kind = Literal["discord", "telegram"]
WHERE = ("process", "inline")
START_WAIT = 60.0  # seconds for the child to bind its port
STOP_WAIT = 10.0  # seconds for the child to stop before it is terminated


async def _start(kind: Kind) -> Any:
    if kind == "discord":
        from devtools.servers.discord_api import FakeDiscord

        return await FakeDiscord().start()
    from devtools.servers.telegram_api import FakeTelegram

    # The benchmark measures the bot, not the server's list of calls.
    return await FakeTelegram(record=False).start()


def _child(kind: Kind, conn: Connection) -> None:
    """The child process: start the server, send its port, serve until told to stop."""

    async def main() -> None:
        server = await _start(kind)
        conn.send(server.port)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        await server.stop()

    asyncio.run(main())


@contextlib.asynccontextmanager
async def local_server(kind: Kind, where: str = "process") -> AsyncIterator[int]:
    """The port of a local `kind` server, run in a child process or inline."""
    if where == "inline":
        server = await _start(kind)
        try:
            yield server.port
        finally:
            await server.stop()
        return
    if where != "process":
        raise ValueError(f"where must be one of {WHERE}, not {where!r}")
    spawn = multiprocessing.get_context("spawn")
    parent, child = spawn.Pipe()
    proc = spawn.Process(target=_child, args=(kind, child), daemon=True, name=f"local-{kind}")
    proc.start()
    child.close()  # the child's end lives in the child: EOF here if it dies before answering
    loop = asyncio.get_running_loop()
    try:
        if not await loop.run_in_executor(None, parent.poll, START_WAIT):
            raise RuntimeError(f"the local {kind} server did not start")
        port: int = parent.recv()
        yield port
    finally:
        with contextlib.suppress(OSError):
            parent.send("stop")
        await loop.run_in_executor(None, proc.join, STOP_WAIT)
        if proc.is_alive():
            proc.terminate()
            await loop.run_in_executor(None, proc.join, STOP_WAIT)
        parent.close()
