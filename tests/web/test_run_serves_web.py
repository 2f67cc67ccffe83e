"""`fanloop run` with web_port: the pages beside the bots, on the metrics' listener when the
address is the same."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from config.settings import FanloopSettings
from devtools.servers.telegram_api import FakeTelegram
from tests.conftest import make_engine
from tests.helpers import member
from tests.ops.scrape import get
from tests.ops.test_fanloop_run_ops import GROUP, free_port, spawn, until_healthy


async def test_fanloop_run_serves_the_web_pages(tmp_path: Path, clock: FakeClock) -> None:
    engine, _ = await make_engine("sqlite", tmp_path)
    app = await App.create(
        FanloopSettings(data_dir=tmp_path / "data"), clock, engine=engine, migrate=False
    )
    owner = await member(app, "Olive", Role.OWNER)
    cid = owner.community.id
    await app.community_settings.set(cid, "web", "on")
    await engine.dispose()
    fake = await FakeTelegram().start()
    fake.titles[GROUP] = "Fans"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    child = spawn("sqlite", None, tmp_path, fake, port, {"FANLOOP_WEB_PORT": str(port)})
    try:
        await until_healthy(base, child)
        status, kind, html = await get(f"{base}/")
        assert status == 200 and kind.startswith("text/html")
        assert f'href="/c/{cid}/"' in html
        assert (await get(f"{base}/c/{cid}/api/board"))[0] == 200
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
        try:
            _, err = await asyncio.to_thread(child.communicate, timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            _, err = child.communicate()
            raise AssertionError("fanloop run did not stop on SIGTERM") from None
        await fake.stop()
    assert child.returncode == 0, err.decode(errors="replace")[-3000:]
