"""`fanloop recompute-points` as an operator runs it after a rule change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from config.settings import DEFAULT_COGS

SCRIPT = """\
/as alice fan
/suggest "Dark mode for the app" "Too bright at night"
/as bob fan
/vote 1
/as carol fan
/vote 1
/as you
/status 1 planned
/leaderboard all
/settings points_vote 5
/settings points_suggestion_planned 7
"""


def fanloop(args: list[str], stdin: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    cogs = [
        *DEFAULT_COGS,
        *(["cogs.participation"] if "cogs.participation" not in DEFAULT_COGS else []),
    ]
    env = {
        **os.environ,
        "FANLOOP_DATA_DIR": str(tmp_path / "data"),
        "FANLOOP_COGS": json.dumps(cogs),
    }
    env.pop("FANLOOP_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        text=True,
        capture_output=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )


def test_recompute_points_applies_the_new_rules(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'loop.db'}"
    console = fanloop(["console", "--db", db], SCRIPT, tmp_path)
    assert console.returncode == 0, console.stderr
    assert "1. alice — 10\n2. bob — 1\n2. carol — 1" in _plain(console.stdout)

    run = fanloop(["recompute-points", "--db", db, "--json"], "", tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {
        "community": 1,
        "contributions": 3,
        "members": 3,
        "points_before": 12,
        "points_after": 17,
    }
    after = fanloop(["console", "--db", db], "/leaderboard all\n", tmp_path)
    assert "1. alice — 7\n2. bob — 5\n2. carol — 5" in _plain(after.stdout)

    text = fanloop(["recompute-points", "--db", db, "--community", "1"], "", tmp_path)
    assert text.returncode == 0, text.stderr
    assert (
        "community 1: 3 contributions, 3 members with points, total points 17 -> 17" in text.stdout
    )
    missing = fanloop(["recompute-points", "--db", db, "--community", "9"], "", tmp_path)
    assert missing.returncode == 2 and "no community 9" in missing.stderr


def _plain(transcript: str) -> str:
    return "\n".join(line.strip() for line in transcript.splitlines())
