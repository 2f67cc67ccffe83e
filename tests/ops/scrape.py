"""The operations endpoints of an App served in the test's process, and what they answer: real
HTTP requests, the Prometheus text parsed by prometheus_client's own parser."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.core.app import App
from bot.web.ops import routes
from bot.web.server import HttpServers


@asynccontextmanager
async def serving(app: App, platforms: Sequence[str] = ()) -> AsyncIterator[str]:
    """GET /healthz and /metrics of `app` (serving `platforms`), in this process on a free
    loopback port; yields the base URL."""
    servers = HttpServers()
    servers.add("127.0.0.1", 0, routes(app, platforms))
    await servers.start()
    try:
        host, port = servers.bound[("127.0.0.1", 0)]
        yield f"http://{host}:{port}"
    finally:
        await servers.stop()


async def get(url: str) -> tuple[int, str, str]:
    """(status, content type, body) of a GET."""
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def health(base: str) -> tuple[int, dict[str, Any]]:
    status, kind, body = await get(f"{base}/healthz")
    assert kind.startswith("application/json")
    return status, json.loads(body)


class Scrape:
    """One scrape of GET /metrics."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: dict[str, list[tuple[dict[str, str], float]]] = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                self.samples.setdefault(s.name, []).append((dict(s.labels), float(s.value)))

    def value(self, name: str, **labels: str) -> float | None:
        """The sample `name` whose labels include `labels`: their sum when several match
        (None when none does)."""
        found = [v for ls, v in self.samples.get(name, []) if labels.items() <= ls.items()]
        return sum(found) if found else None

    def get(self, name: str, **labels: str) -> float:
        """Like `value`, 0 when no sample matches (a counter not incremented yet)."""
        return self.value(name, **labels) or 0.0


async def scrape(base: str) -> Scrape:
    status, kind, body = await get(f"{base}/metrics")
    assert status == 200, body
    assert kind.startswith("text/plain") and "version=0.0.4" in kind
    return Scrape(body)
