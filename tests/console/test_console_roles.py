"""Console roles (`/as NAME admin|owner`) are kept in the data folder: a restarted console still
knows its admins and owners, as a platform would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.adapters.console import ConsoleAdapter
from bot.adapters.console import roles as kept_roles
from bot.core.app import App
from bot.core.commands import Role


async def say(console: ConsoleAdapter, *lines: str) -> str:
    out = []
    for line in lines:
        out += [e.reply.plain_text() for e in await console.handle_line(line)]
    return "\n".join(out)


async def test_roles_survive_a_new_console_on_the_same_data(app: App) -> None:
    first = ConsoleAdapter(app)
    await say(first, "/as boss owner", "/as mod admin", "/as you fan", "/as carol fan")
    again = ConsoleAdapter(app)  # what a restart builds
    assert again.roles == {
        "boss": Role.OWNER,
        "mod": Role.ADMIN,
        "you": Role.FAN,
        "carol": Role.FAN,
    }
    assert "You are now boss (owner)." in await say(again, "/as boss")
    assert "language" in await say(again, "/settings language en")
    assert "You are now mod (admin)." in await say(again, "/as mod")
    refused = (await again.handle_line("/settings language en"))[0].reply
    assert refused.error  # an admin is not an owner: the kept role is the one checked
    await say(again, "/as mod fan")
    assert ConsoleAdapter(app).roles["mod"] == Role.FAN


async def test_an_unreadable_roles_file_is_set_aside(app: App) -> None:
    path = app.settings.data_dir / kept_roles.FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    for junk in ("not json", '{"roles": ["boss"]}', '{"roles": {"boss": "king", "ann": "admin"}}'):
        path.write_text(junk, "utf-8")
        console = ConsoleAdapter(app)
        assert console.roles.get("boss") is None and console.roles["you"] == Role.OWNER
    assert ConsoleAdapter(app).roles["ann"] == Role.ADMIN


def test_a_restarted_fanloop_console_keeps_its_roles(tmp_path: Path) -> None:
    env = {**os.environ, "FANLOOP_DATA_DIR": str(tmp_path / "data")}
    env.pop("FANLOOP_DATABASE_URL", None)

    def console(script: str) -> str:
        run = subprocess.run(
            [sys.executable, "-m", "bot.cli", "console"],
            input=script,
            text=True,
            capture_output=True,
            env=env,
            timeout=120,
            cwd=tmp_path,
        )
        assert run.returncode == 0, run.stderr
        return run.stdout

    console("/as boss owner\n/as mod admin\n")
    out = console("/as boss\n/settings language zh_cn\n/as mod\n")
    assert "You are now boss (owner)." in out and "language is now zh_CN" in out
    assert "你现在是 mod（管理员）。" in out
