"""Kill -9 the process in the middle of a burst of "+1" presses, restart it, deliver the same
presses again: every member told "voted" has their vote, nothing is counted twice, and the
presses committed before the kill are redeliveries (their toggle is not undone)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.core.schema import accounts, communities, identities, members, spaces
from storage.platform.schema import processed_events
from storage.suggestions.schema import suggestions, votes
from tests.conftest import engine_url, make_engine

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("crash_child.py")
MEMBERS = 6000
AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


async def _seed(engine: AsyncEngine) -> tuple[int, dict[int, int]]:
    """A community, MEMBERS known members (fan<i>) and one suggestion with its author's vote.
    Returns the suggestion and each member's account."""
    async with engine.begin() as conn:
        cid = (
            await conn.execute(insert(communities).values(name="fans", created_at=AT))
        ).inserted_primary_key[0]  # type: ignore[index]
        await conn.execute(
            insert(spaces).values(community_id=cid, platform="crash", space_id="fans", name="f")
        )
        author = (await conn.execute(insert(accounts).values(created_at=AT))).inserted_primary_key[
            0
        ]  # type: ignore[index]
        await conn.execute(insert(accounts), [{"created_at": AT} for _ in range(MEMBERS)])
        ids = list(
            (
                await conn.execute(
                    select(accounts.c.id).where(accounts.c.id != author).order_by(accounts.c.id)
                )
            ).scalars()
        )
        await conn.execute(
            insert(identities),
            [
                {
                    "platform": "crash",
                    "platform_user_id": f"fan{i}",
                    "account_id": a,
                    "display_name": f"fan{i}",
                    "created_at": AT,
                }
                for i, a in enumerate(ids)
            ],
        )
        await conn.execute(
            insert(members),
            [
                {"community_id": cid, "account_id": a, "joined_at": AT, "last_seen_at": AT}
                for a in [author, *ids]
            ],
        )
        sid = (
            await conn.execute(
                insert(suggestions).values(
                    community_id=cid,
                    author_id=author,
                    title="Dark mode",
                    votes=1,
                    created_at=AT,
                    updated_at=AT,
                )
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        await conn.execute(
            insert(votes).values(suggestion_id=sid, account_id=author, created_at=AT)
        )
    return int(sid), dict(enumerate(ids))


def _spawn(url: str, schema: str, data: Path, sid: int, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [url, schema, str(data), str(sid), str(MEMBERS), str(out)]
    return subprocess.Popen([sys.executable, str(CHILD), *args], cwd=ROOT, env=env)


def _told(out: Path) -> set[int]:
    return {int(line) for line in out.read_text().splitlines()} if out.exists() else set()


def _wait_for(out: Path, child: subprocess.Popen[bytes], n: int) -> None:
    deadline = time.monotonic() + 120
    while len(_told(out)) < n and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)


async def _state(engine: AsyncEngine, sid: int) -> tuple[set[int], int, int]:
    """(accounts with a vote, the count column, receipts recorded)."""
    async with engine.connect() as conn:
        voters = set(
            (
                await conn.execute(select(votes.c.account_id).where(votes.c.suggestion_id == sid))
            ).scalars()
        )
        column = (
            await conn.execute(select(suggestions.c.votes).where(suggestions.c.id == sid))
        ).scalar_one()
        receipts = (
            await conn.execute(select(func.count()).select_from(processed_events))
        ).scalar_one()
    return voters, int(column), int(receipts)


async def test_sigkill_mid_burst_loses_no_announced_vote(db_kind: str, tmp_path: Path) -> None:
    engine, schema = await make_engine(db_kind, tmp_path)
    url = engine_url(db_kind, tmp_path)
    try:
        sid, account = await _seed(engine)
        out = tmp_path / "told.txt"

        child = _spawn(url, schema or "", tmp_path, sid, out)
        await asyncio.to_thread(_wait_for, out, child, 300)
        assert child.poll() is None, "the burst ended before it could be killed"
        child.send_signal(signal.SIGKILL)
        child.wait()
        told = _told(out)
        voters, column, receipts = await _state(engine, sid)
        assert 300 <= len(told) < MEMBERS  # it really died mid-burst
        assert {account[i] for i in told} <= voters  # every "voted" is in the database
        assert column == len(voters) < MEMBERS + 1  # counted once each
        assert receipts == len(voters) - 1  # each press's receipt with its vote, no other

        # Restart: the same presses delivered again, to the end.
        child = _spawn(url, schema or "", tmp_path, sid, out)
        assert child.wait(timeout=300) == 0
        voters, column, receipts = await _state(engine, sid)
        assert _told(out) == set(range(MEMBERS))  # all told "voted", none taken back
        assert set(account.values()) <= voters  # every member's vote, the author's too
        assert column == len(voters) == MEMBERS + 1
        assert receipts == MEMBERS
    finally:
        await engine.dispose()
