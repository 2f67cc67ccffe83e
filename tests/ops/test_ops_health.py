"""GET /healthz says 503, and which part fails, when the database does not answer, a platform
is not connected, or the process is stopping; GET /metrics then still answers."""

from __future__ import annotations

import socket
from pathlib import Path

from bot.core.app import App
from config.settings import FanloopSettings
from storage.engine import create_engine
from tests.ops.scrape import health, scrape, serving


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_database_that_does_not_answer_makes_it_unavailable(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/fanloop"
    settings = FanloopSettings(data_dir=tmp_path / "data", database_url=url)
    app = await App.create(settings, engine=create_engine(url), migrate=False)
    try:
        async with serving(app) as base:
            status, body = await health(base)
            assert status == 503
            assert body["status"] == "unavailable"
            assert body["db"].startswith("error: ")
            got = await scrape(base)
            assert got.value("fanloop_database_up") == 0
            assert got.value("fanloop_outbox_pending") is None  # no figure rather than a wrong one
    finally:
        await app.close()


async def test_a_platform_counts_once_its_adapter_says_it_is_connected(app: App) -> None:
    up = [False]
    async with serving(app, ["telegram"]) as base:
        status, body = await health(base)
        assert (status, body["platforms"]) == (503, {"telegram": "disconnected"})
        assert body["db"] == "ok"
        assert (await scrape(base)).value("fanloop_platform_connected", platform="telegram") == 0

        app.health.watch("telegram", lambda: up[0])
        assert (await health(base))[0] == 503
        up[0] = True
        status, body = await health(base)
        assert (status, body) == (
            200,
            {"status": "ok", "db": "ok", "platforms": {"telegram": "connected"}},
        )
        assert (await scrape(base)).value("fanloop_platform_connected", platform="telegram") == 1

        app.health.stopping = True
        status, body = await health(base)
        assert (status, body["status"]) == (503, "stopping")
