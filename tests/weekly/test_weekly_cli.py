"""`fanloop console --clock fake` as a user runs it, piped: Friday's release in one run; the bot
is off until Wednesday; the next run starts then, opens the missed report once, and posts the
results with the chart two days later."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.weekly.conftest import WEEKLY_COGS

FRIDAY = """\
/as boss owner
/as alice fan
/suggest "Dark mode for the app" "Too bright at night"
/as boss admin
/release new v1.2 #1; 相机启动更快
"""

WEDNESDAY = """\
/advance 1h
/as alice fan
/report vote 1 love
/report vote 2 不够好
/as bob fan
/report fill
!1
!2
/advance 2d
"""


def fanloop(args: list[str], stdin: str, tmp_path: Path) -> list[dict[str, Any]]:
    env = {
        **os.environ,
        "FANLOOP_DATA_DIR": str(tmp_path / "data"),
        "FANLOOP_COGS": json.dumps(WEEKLY_COGS),
    }
    env.pop("FANLOOP_DATABASE_URL", None)
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "console", "--json", "--clock", "fake", *args],
        input=stdin,
        text=True,
        capture_output=True,
        env=env,
        timeout=180,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_missed_tuesday_through_the_cli(tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'week.db'}"]
    friday = fanloop([*db, "--start", "2026-11-20T09:00:00+00:00"], FRIDAY, tmp_path)
    posts = [e for e in friday if e["to"] == "channel"]
    assert "🍊 v1.2 is out" in posts[-1]["text"] and "相机启动更快" in posts[-1]["text"]

    later = fanloop([*db, "--start", "2026-11-25T12:00:00+00:00"], WEDNESDAY, tmp_path)
    posts = [e for e in later if e["to"] == "channel"]
    assert len(posts) == 2
    opened, results = posts
    assert "📝 Four-grid report: v1.2" in opened["text"]
    assert "Open until Fri 2026-11-27 13:00 (UTC)" in opened["text"]
    assert opened["buttons"][0]["action"] == "fgp:1:0"
    assert "Turnout: 2" in results["text"]
    assert "Not good enough" in results["text"] and "相机启动更快" in results["text"]
    assert results["image"] and Path(results["image"]).read_bytes().startswith(b"\x89PNG")
    bob_pages = [e for e in later if e["to"] == "bob" and e["buttons"]]
    assert bob_pages[0]["buttons"][0]["action"].startswith("fg:1:")
    assert all(len(b["action"].encode()) <= 64 for e in later for b in e["buttons"])


def test_bench_polls_prints_its_figures(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "bench",
            "polls",
            "--members",
            "300",
            "--items",
            "4",
            "--concurrency",
            "32",
            "--sample",
            "40",
            "--json",
        ],
        text=True,
        capture_output=True,
        env={**os.environ, "FANLOOP_DATA_DIR": str(tmp_path / "data")},
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    stats = json.loads(run.stdout)
    assert {"ballots", "ballots_per_s", "results_s", "chart_s", "peak_rss_mb"} <= set(stats)
    assert stats["ballots"] == stats["ballots_stored"] == 1200
    assert stats["turnout"] == 300 and stats["results_agree"] is True
    assert stats["ballots_per_s"] > 0 and stats["chart_bytes"] > 0
