"""`fanloop bench outbox`: storing a large batch of notifications, as when a flash drop nudges
every reserver at once.

`OutboxRepo.add` stores keyed messages in batched `INSERT … ON CONFLICT DO NOTHING` statements,
one transaction per batch. The baseline is the earlier way, measured in the same run on the same
database: one savepoint and one INSERT per message, all in one transaction (on a copy of at most
`--baseline-max` messages, because it is slow). Both are then asked to store the same messages a
second time, which must add nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core import runtime
from devtools.scratch import ScratchDb
from storage.core.outbox import NewMessage, OutboxRepo, message_row
from storage.core.schema import communities, outbox


async def _one_by_one(engine: AsyncEngine, messages: list[NewMessage], now: datetime) -> int:
    """The baseline: a savepoint and an INSERT per message, in one transaction."""
    added = 0
    async with engine.begin() as conn:
        for m in messages:
            try:
                async with conn.begin_nested():
                    await conn.execute(insert(outbox).values(**message_row(m, now)))
                added += 1
            except IntegrityError:
                pass
    return added


def _nudges(community_id: int, tag: str, count: int) -> list[NewMessage]:
    return [
        NewMessage(
            community_id=community_id,
            platform="telegram",
            kind="member",
            target=str(100_000 + i),
            payload={"text": "Claims are open: press Claim now", "buttons": []},
            dedup_key=f"drop:{tag}:nudge:{i}",
        )
        for i in range(count)
    ]


async def _timed(store: Any, messages: list[NewMessage], now: datetime) -> tuple[int, float]:
    start = time.perf_counter()
    added = await store(messages, now)
    return added, time.perf_counter() - start


async def run(messages: int, baseline_max: int, db: str | None) -> dict[str, Any]:
    now = datetime.now(UTC)
    async with ScratchDb(db) as engine:
        async with engine.begin() as conn:
            result = await conn.execute(insert(communities).values(name="bench", created_at=now))
            key = result.inserted_primary_key
            assert key is not None
            cid = int(key[0])
        repo = OutboxRepo(engine)
        batch = _nudges(cid, "batched", messages)
        added, seconds = await _timed(repo.add, batch, now)
        again, again_s = await _timed(repo.add, batch, now)
        copy = _nudges(cid, "baseline", min(messages, baseline_max))
        base_added, base_s = await _timed(lambda m, n: _one_by_one(engine, m, n), copy, now)
        base_again, _ = await _timed(lambda m, n: _one_by_one(engine, m, n), copy, now)
        async with engine.connect() as conn:
            stored = (await conn.execute(select(func.count()).select_from(outbox))).scalar_one()
    return {
        "database": "PostgreSQL" if db and not db.startswith("sqlite") else "SQLite",
        "messages": messages,
        "added": added,
        "per_s": round(messages / seconds, 1),
        "seconds": round(seconds, 3),
        "again_added": again,
        "again_s": round(again_s, 3),
        "baseline_messages": len(copy),
        "baseline_per_s": round(len(copy) / base_s, 1),
        "baseline_again_added": base_again,
        "stored": stored,
        "ok": added == messages
        and again == 0
        and base_again == 0
        and stored == messages + base_added,
    }


def bench(args: argparse.Namespace) -> int:
    if args.messages < 1 or args.baseline_max < 1:
        print(
            "fanloop bench outbox: --messages and --baseline-max must be positive", file=sys.stderr
        )
        return 2
    result = runtime.run(run(args.messages, args.baseline_max, args.db))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['database']}: {result['messages']:,} keyed notifications")
        print(f"  batched:   {result['per_s']:,.0f}/s ({result['seconds']:.2f} s)")
        print(
            f"  baseline:  {result['baseline_per_s']:,.0f}/s (one INSERT per message, "
            f"on {result['baseline_messages']:,})"
        )
        print(f"  stored again: {result['again_added']} added ({result['again_s']:.2f} s)")
        print(f"  rows: {result['stored']:,}, consistent: {result['ok']}")
    return 0 if result["ok"] else 1


def register_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("outbox", help="storing a burst of notifications (a flash-drop nudge)")
    p.add_argument("--messages", type=int, default=100_000, help="notifications to store")
    p.add_argument(
        "--baseline-max", type=int, default=5_000, help="messages for the one-by-one baseline"
    )
    p.add_argument(
        "--db", help="database URL (default: a temporary SQLite file; PostgreSQL: a new schema)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=bench)
