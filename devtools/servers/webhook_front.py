"""A small round-robin front for Telegram webhook workers, for tests: what a reverse proxy
(nginx, Caddy, a load balancer) does in a deployment with several `fanloop run` processes.

Each POST goes to the next worker in turn, headers and body unchanged, and the worker's answer
(its status and body, which may carry a method for Telegram) goes back. A worker that cannot
be reached is skipped for the next one, as a proxy does with a dead upstream; when none answers,
502 (Telegram then sends the update again later). With `copies=2` every update is sent to two
workers at once (a front that duplicates, or Telegram redelivering to another worker), and the
answer with a body wins.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

FORWARDED = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")


@dataclass
class WebhookFront:
    backends: list[str]  # the workers' webhook URLs
    host: str = "127.0.0.1"
    port: int = 0
    copies: int = 1
    served: Counter[str] = field(default_factory=Counter)  # requests answered 200, per worker
    forwarded: Counter[str] = field(default_factory=Counter)  # requests sent, per worker

    def __post_init__(self) -> None:
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hook"

    async def start(self) -> WebhookFront:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/{tail:.*}", self._post)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]
        self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: request.headers[k] for k in FORWARDED if k in request.headers}
        first = next(self._turn)
        n = len(self.backends)
        if self.copies > 1:
            targets = [self.backends[(first + i) % n] for i in range(min(self.copies, n))]
            answers = await asyncio.gather(*(self._forward(t, body, headers) for t in targets))
            ok = [a for a in answers if a is not None and a[0] == 200]
            if not ok:
                return web.Response(status=502)
            status, payload = max(ok, key=lambda a: len(a[1]))
            return self._response(status, payload)
        for i in range(n):  # the next worker that answers
            answer = await self._forward(self.backends[(first + i) % n], body, headers)
            if answer is not None:
                return self._response(*answer)
        return web.Response(status=502)

    async def _forward(
        self, backend: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes] | None:
        assert self._client is not None
        self.forwarded[backend] += 1
        try:
            async with self._client.post(backend, data=body, headers=headers) as r:
                payload = await r.read()
                if r.status == 200:
                    self.served[backend] += 1
                return r.status, payload
        except (aiohttp.ClientError, TimeoutError, OSError):
            return None

    @staticmethod
    def _response(status: int, payload: bytes) -> web.Response:
        if payload:
            return web.Response(status=status, body=payload, content_type="application/json")
        return web.Response(status=status)
