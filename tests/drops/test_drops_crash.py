"""Kill -9 the claim engine's process in the middle of a burst, again and again, restart, check
the promises: every member told "won" is a winner (with the code they were told), every winner
has the private message with their code in the outbox, nobody won twice, nothing is oversold."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from devtools.bench.drops import seed
from storage.core.schema import outbox
from storage.drops.schema import slots, wins
from tests.conftest import engine_url, make_engine

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("crash_child.py")
QUOTA, RESERVERS = 6000, 12000
KILLS = 3


def _spawn(url: str, schema: str, drop_id: int, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(CHILD), url, schema, str(drop_id), str(out)], cwd=ROOT, env=env
    )


def _told(out: Path) -> dict[int, str]:
    told: dict[int, str] = {}
    if out.exists():
        for line in out.read_text().splitlines():
            account, code = line.split()
            assert told.setdefault(int(account), code) == code  # the same answer every time
    return told


def _wait_for_wins(out: Path, child: subprocess.Popen[bytes], n: int) -> None:
    deadline = time.monotonic() + 120
    while _lines(out) < n and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)


def _lines(out: Path) -> int:
    """How many members were told "won" so far (a restart tells earlier winners again)."""
    if not out.exists():
        return 0
    return len({line.split(b" ", 1)[0] for line in out.read_bytes().splitlines()})


async def test_sigkill_mid_burst_loses_no_announced_win(db_kind: str, tmp_path: Path) -> None:
    engine, schema = await make_engine(db_kind, tmp_path)
    url = engine_url(db_kind, tmp_path)
    try:
        drop_id = await seed(engine, QUOTA, RESERVERS, 0)
        out = tmp_path / "told.txt"

        # Kill it each time some more wins were announced, long before the quota is gone.
        for kill in range(1, KILLS + 1):
            child = _spawn(url, schema or "", drop_id, out)
            await asyncio.to_thread(_wait_for_wins, out, child, 300 * kill)
            assert child.poll() is None, "the burst ended before it could be killed"
            child.send_signal(signal.SIGKILL)
            child.wait()
            killed_at = _told(out)
            async with engine.connect() as conn:
                taken = (await conn.execute(select(func.count()).select_from(slots))).scalar_one()
            assert len(killed_at) >= 300 * kill and taken < QUOTA  # it really died mid-burst
            await _assert_promises_kept(engine, drop_id, killed_at)

        # Restart: the same burst again, to the end.
        child = _spawn(url, schema or "", drop_id, out)
        assert child.wait(timeout=300) == 0
        told = _told(out)
        await _assert_promises_kept(engine, drop_id, told)
        async with engine.connect() as conn:
            taken = (await conn.execute(select(func.count()).select_from(slots))).scalar_one()
        assert taken == QUOTA  # sold out exactly
    finally:
        await engine.dispose()


async def _assert_promises_kept(engine: AsyncEngine, drop_id: int, told: dict[int, str]) -> None:
    async with engine.connect() as conn:
        stored = {
            int(r.account_id): r.code
            for r in await conn.execute(select(wins.c.account_id, wins.c.code))
        }
        numbers = list((await conn.execute(select(slots.c.slot))).scalars())
        holders = list((await conn.execute(select(slots.c.account_id))).scalars())
        messages: dict[int, list[dict[str, Any]]] = {}
        for r in await conn.execute(select(outbox.c.account_id, outbox.c.payload)):
            messages.setdefault(int(r.account_id), []).append(r.payload)
    # Every "won" is stored with the code told; nothing oversold; nobody holds two slots.
    assert all(stored.get(account) == code for account, code in told.items())
    assert len(numbers) == len(set(numbers)) <= QUOTA
    assert all(1 <= n <= QUOTA for n in numbers)
    assert len(holders) == len(set(holders)) == len(stored)
    # Every winner's private message, with their code, committed with the win, and one only.
    for account, code in stored.items():
        payloads = messages.get(account, [])
        assert len(payloads) == 1, f"winner {account} has {len(payloads)} messages"
        assert code in payloads[0]["text"]
    assert len(messages) == len(stored)
