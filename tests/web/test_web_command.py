"""`fanloop web`: the pages alone, in a process of their own, on a database the bots use."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from config.settings import FanloopSettings
from tests.conftest import make_engine
from tests.helpers import member
from tests.ops.test_fanloop_run_ops import free_port

ROOT = Path(__file__).resolve().parents[2]


async def get(url: str) -> tuple[int, str]:
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as r:
        return r.status, await r.text()


def spawn(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


async def test_fanloop_web_serves_the_pages_and_stops_on_sigterm(
    tmp_path: Path, clock: FakeClock
) -> None:
    engine, _ = await make_engine("sqlite", tmp_path)
    app = await App.create(
        FanloopSettings(data_dir=tmp_path / "data"), clock, engine=engine, migrate=False
    )
    owner = await member(app, "Olive", Role.OWNER)
    cid = owner.community.id
    await app.community_settings.set(cid, "web", "on")
    await engine.dispose()

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANLOOP_")}
    env.update(PYTHONPATH=str(ROOT), FANLOOP_DATA_DIR=str(tmp_path / "data"))
    command = [
        sys.executable, "-m", "bot.cli", "web",
        "--db", f"sqlite:///{tmp_path / 'fanloop.db'}", "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    child = spawn(command, env)
    try:
        for _ in range(600):
            assert child.poll() is None, "fanloop web ended early"
            try:
                status, html = await get(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("fanloop web never answered")
        assert status == 200 and f'href="/c/{cid}/"' in html
        assert (await get(f"http://127.0.0.1:{port}/c/{cid}/roadmap"))[0] == 200
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=30)
        assert child.returncode == 0, err.decode()
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()


def test_fanloop_web_refuses_a_database_without_the_schema(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANLOOP_")}
    env.update(PYTHONPATH=str(ROOT), FANLOOP_DATA_DIR=str(tmp_path / "data"))
    command = [
        sys.executable,
        "-m",
        "bot.cli",
        "web",
        "--db",
        f"sqlite:///{tmp_path / 'empty.db'}",
        "--port",
        "0",
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=60)
    assert done.returncode != 0
    assert b"migrate" in done.stderr
