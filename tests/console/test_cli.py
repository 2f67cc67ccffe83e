"""`fanloop console` as a user runs it: piped script in, text or JSON lines out, data kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """\
/as alice fan
/suggest "Dark mode for the app" "Too bright at night"
/as bob fan
!1
/advance 2d
"""


def fanloop(args: list[str], stdin: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FANLOOP_DATA_DIR": str(tmp_path / "data")}
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


def test_json_events_and_fake_clock(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'loop.db'}"
    run = fanloop(
        [
            "console",
            "--db",
            db,
            "--json",
            "--clock",
            "fake",
            "--start",
            "2026-11-20T09:00:00+00:00",
        ],
        SCRIPT,
        tmp_path,
    )
    assert run.returncode == 0, run.stderr
    events = [json.loads(line) for line in run.stdout.splitlines()]
    assert all(set(e) == {"to", "text", "buttons", "ephemeral", "image"} for e in events)
    post = next(e for e in events if e["to"] == "channel")
    assert "#1 Dark mode for the app" in post["text"]
    assert post["buttons"] == [{"n": 1, "label": "👍 +1 #1 (1)", "action": "sv:1"}]
    vote = next(e for e in events if e["to"] == "bob" and "Voted" in e["text"])
    assert vote["ephemeral"] is True
    assert "2026-11-22T09:00" in events[-1]["text"]

    # A second run on the same database: everything is still there.
    again = fanloop(["console", "--db", db], "/as carol fan\n/show 1\n", tmp_path)
    assert again.returncode == 0, again.stderr
    assert "Votes: 2" in again.stdout


def test_text_transcript_and_bad_config(tmp_path: Path) -> None:
    run = fanloop(["console"], "/help\n/top\n", tmp_path)
    assert run.returncode == 0, run.stderr
    assert "you> /help" in run.stdout and "/suggest" in run.stdout
    assert (tmp_path / "data" / "fanloop.db").exists()
    (tmp_path / "fanloop.toml").write_text(
        'default_timezone = "Nowhere/Special"\n', encoding="utf-8"
    )
    bad = fanloop(["console"], "", tmp_path)
    assert bad.returncode == 2
    assert "default_timezone" in bad.stderr


def test_migrate_command(tmp_path: Path) -> None:
    run = fanloop(["migrate", "--db", f"sqlite:///{tmp_path / 'm.db'}"], "", tmp_path)
    assert run.returncode == 0, run.stderr
    assert "up to date" in run.stdout


def test_fake_clock_start_out_of_range(tmp_path: Path) -> None:
    """`--start` far out of range would make every tick fail: refused with the range."""
    for start, says in [
        ("9999-12-31T23:00", "out of range: from 2000-01-01 to before 2100-01-01"),
        ("next tuesday", "not an ISO 8601 time"),
    ]:
        run = fanloop(["console", "--clock", "fake", "--start", start], "", tmp_path)
        assert run.returncode == 2
        assert says in run.stderr and "Traceback" not in run.stderr
