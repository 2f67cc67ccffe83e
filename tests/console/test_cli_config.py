"""A bad configuration stops `fanloop` with one clear line, never a traceback: a cog that is no
module, a data folder that cannot be written, a platform that cannot be reached, a database path
that does not exist; unknown settings are warned about, in the file and in the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def fanloop(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "FANLOOP_DATA_DIR": str(tmp_path / "data"), **env}
    full.pop("FANLOOP_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input="",
        text=True,
        capture_output=True,
        env=full,
        timeout=120,
        cwd=tmp_path,
    )


def _one_line(run: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in run.stderr, run.stderr
    return run.stderr.strip()


def test_a_cog_that_is_no_module(tmp_path: Path) -> None:
    run = fanloop(["console"], tmp_path, FANLOOP_COGS='["cogs.meta", "cogs.sugestions"]')
    assert run.returncode == 2
    assert _one_line(run) == (
        "fanloop: cogs: there is no module 'cogs.sugestions' (check FANLOOP_COGS or `cogs` in "
        "the file)"
    )


def test_a_data_folder_that_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("", "utf-8")
    run = fanloop(["console"], tmp_path, FANLOOP_DATA_DIR=str(tmp_path / "a-file" / "data"))
    assert run.returncode == 2
    assert _one_line(run).startswith(f"fanloop: data_dir: cannot write to {tmp_path}/a-file/data")


@pytest.mark.parametrize(
    "env",
    [
        {
            "FANLOOP_TELEGRAM_TOKEN": "123:abc",
            "FANLOOP_TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot",
        },
        {
            "FANLOOP_DISCORD_TOKEN": "abc",
            "FANLOOP_DISCORD_API_BASE": "http://127.0.0.1:9/api/v10",
            "FANLOOP_DISCORD_GATEWAY_URL": "ws://127.0.0.1:9/gateway",
        },
    ],
)
def test_a_platform_that_cannot_be_reached(tmp_path: Path, env: dict[str, str]) -> None:
    run = fanloop(["run"], tmp_path, **env)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr, run.stderr
    assert "fanloop: cannot reach" in run.stderr and "check the network" in run.stderr


def test_unknown_settings_are_warned_about(tmp_path: Path) -> None:
    (tmp_path / "fanloop.toml").write_text('log_levle = "DEBUG"\n', "utf-8")
    run = fanloop(["migrate"], tmp_path, FANLOOP_DEFAULT_TIMEZON="Asia/Shanghai")
    assert run.returncode == 0, run.stderr
    assert [line for line in run.stderr.splitlines() if "warning" in line] == [
        "fanloop: warning: fanloop.toml: unknown setting 'log_levle' is ignored "
        "(did you mean log_level?)",
        "fanloop: warning: unknown environment variable FANLOOP_DEFAULT_TIMEZON is ignored "
        "(did you mean FANLOOP_DEFAULT_TIMEZONE?)",
    ]


def test_recompute_points_on_a_database_that_does_not_exist(tmp_path: Path) -> None:
    typo = tmp_path / "fanlop.db"
    run = fanloop(["recompute-points", "--db", f"sqlite:///{typo}"], tmp_path)
    assert run.returncode == 2
    assert _one_line(run) == f"fanloop: no database at {typo}"
    assert not typo.exists()
