"""A connection to a SQLite file turns on WAL even while another process writes to it: processes
started together on a new database, one of them migrating it, all come up."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.engine import wal_mode


def _writing(path: Path) -> sqlite3.Connection:
    """A connection in the middle of a write transaction on a new (rollback-journal) file."""
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")
    return writer


def test_wal_mode_waits_for_a_writer_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    writer = _writing(path)
    other = sqlite3.connect(path, isolation_level=None, timeout=30)
    cur = other.cursor()
    # SQLite alone does not wait for this lock, busy timeout or not: it fails at once.
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        cur.execute("PRAGMA journal_mode=WAL")

    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        writer.execute("COMMIT")  # the writer finishes while the other connection waits

    wal_mode(cur, wait=wait)
    assert len(waits) == 1
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert other.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_wal_mode_gives_up_after_the_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    _writing(path)  # never finishes
    cur = sqlite3.connect(path, isolation_level=None).cursor()
    now = [0.0]
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        wal_mode(cur, seconds=2.0, wait=wait, clock=lambda: now[0])
    assert 2.0 <= now[0] < 2.0 + 0.25  # waited its time, then no more
    assert max(waits) == 0.25 and waits == sorted(waits)  # backing off, to a quarter second
