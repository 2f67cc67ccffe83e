"""A writer on a fanloop SQLite database, run by the backup test while it backs the database up.

Usage: backup_writer.py DB STOP
Commits batches of BATCH rows to `processed_events` (event ids `<batch>-<n>`), one transaction
each, on a WAL connection as the bot's; prints `1` once the first batch is committed, and the
last batch's number when it stops, after the batch during which the file STOP appeared.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

BATCH = 50

if __name__ == "__main__":
    db, stop = Path(sys.argv[1]), Path(sys.argv[2])
    conn = sqlite3.connect(db, timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    batch = 0
    while True:
        batch += 1
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO processed_events (platform, event_id, created_at) VALUES (?, ?, ?)",
            [("telegram", f"{batch}-{n}", "2026-11-20 09:00:00.000000") for n in range(BATCH)],
        )
        conn.execute("COMMIT")
        if batch == 1:
            print(batch, flush=True)
        if stop.exists():
            break
    conn.close()
    print(batch, flush=True)
