"""The console stops cleanly however it is stopped (/quit, the end of piped input, Ctrl-C),
refuses an `/advance` too long to run, and keeps the files of every session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter
from tests.console.test_cli import fanloop


def _env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "FANLOOP_DATA_DIR": str(tmp_path / "data")}
    env.pop("FANLOOP_DATABASE_URL", None)
    return env


@pytest.mark.parametrize("ending", ["/quit\n", ""])
def test_quit_and_end_of_input_with_the_real_clock(tmp_path: Path, ending: str) -> None:
    """The real clock runs the scheduler, whose first tick is still at work when input ends."""
    run = fanloop(["console"], '/suggest "Dark mode for the app"\n' + ending, tmp_path)
    assert run.returncode == 0, run.stderr
    assert "#1 Dark mode for the app" in run.stdout
    assert "Traceback" not in run.stderr and "ERROR" not in run.stderr, run.stderr


def test_ctrl_c_stops_without_a_traceback(tmp_path: Path) -> None:
    # A command started in the background by a shell without job control (`make test &`)
    # ignores Ctrl-C, and so would the console started here: an ignored signal stays ignored
    # across exec, a handled one is reset to its default. Handle it while the console starts.
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "console"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(tmp_path),
            cwd=tmp_path,
        )
    finally:
        signal.signal(signal.SIGINT, before)
    assert proc.stdin and proc.stdout
    proc.stdin.write('/suggest "Dark mode for the app"\n')
    proc.stdin.flush()
    # Once the answer is out, the console waits for the next line (stdin stays open).
    while "Dark mode for the app" not in proc.stdout.readline():
        pass
    proc.send_signal(signal.SIGINT)
    # Wait with stdin still open: closing it (as `communicate` does) is the end of input, a
    # clean stop of its own that could win the race with the signal.
    proc.wait(timeout=60)
    assert proc.stderr
    err = proc.stderr.read()
    proc.stdin.close()
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err


def test_a_start_time_that_is_not_one(tmp_path: Path) -> None:
    run = fanloop(["console", "--clock", "fake", "--start", "next tuesday"], "", tmp_path)
    assert run.returncode == 2
    assert "not an ISO 8601 time: 'next tuesday'" in run.stderr
    assert "Traceback" not in run.stderr


async def test_advance_is_bounded(console: ConsoleAdapter) -> None:
    for line in ("/advance 10000d", "/advance 8d", f"/advance {10**30}d"):
        events = await console.handle_line(line)
        assert len(events) == 1, line
        text = events[0].reply.plain_text()
        assert text.startswith(("At most 7 days at a time", "time must be")), (line, text)
    assert console.app.clock.now().isoformat().startswith("2026-11-20T09:00")


async def test_a_second_session_keeps_the_first_sessions_files(
    console: ConsoleAdapter, tmp_path: Path
) -> None:
    await console.handle_line("/drop create Caps 3 2026-11-21T09:00")
    first = await console.handle_line("/drop export 1")
    again = ConsoleAdapter(console.app)  # a new session, writing to the same folder
    second = await again.handle_line("/drop export 1")
    files = [first[0].file, second[0].file]
    assert None not in files and files[0] != files[1]
    assert sorted(p.name for p in console.image_dir.iterdir()) == sorted(
        Path(f).name for f in files if f
    )
