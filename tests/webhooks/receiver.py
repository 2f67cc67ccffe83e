"""A local webhook receiver: an aiohttp server on 127.0.0.1 that records each POST and answers
with the statuses it is given (then 200)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class Receiver:
    url: str = ""
    answers: list[int] = field(default_factory=list)  # statuses to answer, in order; then 200
    received: list[Received] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(Received(await request.read(), dict(request.headers)))
        status = self.answers.pop(0) if self.answers else 200
        return web.Response(status=status, text="ok" if status < 300 else "no")


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/fanloop-token", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rec.url = f"http://127.0.0.1:{port}/hooks/fanloop-token"
    try:
        yield rec
    finally:
        await runner.cleanup()
