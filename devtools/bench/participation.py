"""`fanloop bench participation`: what keeping the ledger current costs on a large community.

Seeds a community (members, suggestions, votes over 30 days, some suggestions planned and
shipped) straight into the suggestion loop's tables, then times, on the real service: the first
full build (recompute), a reconciliation with nothing to change, an incremental sync after a burst
of new votes, and — the baseline — a full reconciliation picking up a burst of the same size
(what every tick would cost without the incremental path); then a leaderboard and a profile.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core import runtime
from bot.core.clock import FakeClock
from devtools.bench.seeding import insert_chunked, seed_members
from storage.core.schema import communities, members, spaces
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.suggestions.schema import suggestion_events, suggestions, votes

T = TypeVar("T")
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


async def seed(engine: AsyncEngine, n_members: int, n_votes: int, rng: random.Random) -> int:
    """One community with `n_members` members (plus an admin) and about `n_votes` votes."""
    async with engine.begin() as conn:
        res = await conn.execute(insert(communities).values(name="bench", created_at=NOW))
        cid = int(res.inserted_primary_key[0])  # type: ignore[index]
        await conn.execute(
            insert(spaces).values(community_id=cid, platform="console", space_id="bench", name="b")
        )
    admin = n_members + 1
    ids = list(range(1, admin + 1))
    start = NOW - timedelta(days=30)
    await seed_members(engine, cid, ids, start)
    n_sugg = max(10, n_members // 10)
    authors = [rng.randint(1, n_members) for _ in range(n_sugg)]
    statuses = rng.choices(["new", "planned", "shipped"], weights=[8, 1, 1], k=n_sugg)
    await insert_chunked(
        engine,
        suggestions,
        [
            {
                "id": s + 1,
                "community_id": cid,
                "author_id": authors[s],
                "title": f"Suggestion {s + 1}",
                "status": statuses[s],
                "created_at": start,
                "updated_at": start + timedelta(days=15),
            }
            for s in range(n_sugg)
        ],
    )
    await insert_chunked(
        engine,
        suggestion_events,
        [
            {
                "suggestion_id": s + 1,
                "actor_id": admin,
                "kind": "status",
                "old": "new",
                "new": statuses[s],
                "created_at": start + timedelta(days=15),
            }
            for s in range(n_sugg)
            if statuses[s] != "new"
        ],
    )
    seen: set[tuple[int, int]] = set()
    rows: list[dict[str, Any]] = []
    for s in range(n_sugg):  # the authors' own votes
        seen.add((s + 1, authors[s]))
    while len(rows) < n_votes:
        pair = (rng.randint(1, n_sugg), rng.randint(1, n_members))
        if pair in seen:
            continue
        seen.add(pair)
        at = start + timedelta(seconds=rng.randint(0, 30 * 86400 - 1))
        rows.append({"suggestion_id": pair[0], "account_id": pair[1], "created_at": at})
    await insert_chunked(engine, votes, rows)
    await _recount(engine)
    return cid


async def add_votes(
    engine: AsyncEngine, cid: int, count: int, at: datetime, rng: random.Random
) -> None:
    """A burst of new votes (suggestion ids 1..members/10, accounts 1..members)."""
    async with engine.connect() as conn:
        n_sugg = int((await conn.execute(select(func.max(suggestions.c.id)))).scalar() or 0)
        n_members = int(
            (await conn.execute(select(func.count()).select_from(members))).scalar() or 0
        )
        have = {
            (int(r.suggestion_id), int(r.account_id))
            for r in await conn.execute(select(votes.c.suggestion_id, votes.c.account_id))
        }
    rows: list[dict[str, Any]] = []
    while len(rows) < count:
        pair = (rng.randint(1, n_sugg), rng.randint(1, n_members - 1))
        if pair in have:
            continue
        have.add(pair)
        rows.append({"suggestion_id": pair[0], "account_id": pair[1], "created_at": at})
    await insert_chunked(engine, votes, rows)
    await _recount(engine)


async def _recount(engine: AsyncEngine) -> None:
    """Votes inserted here directly: bring each suggestion's count column up to date."""
    count = select(func.count()).where(votes.c.suggestion_id == suggestions.c.id)
    async with engine.begin() as conn:
        await conn.execute(update(suggestions).values(votes=count.scalar_subquery()))


async def _timed(work: Callable[[], Awaitable[T]]) -> tuple[float, T]:
    t0 = time.perf_counter()
    result = await work()
    return time.perf_counter() - t0, result


async def run(
    engine: AsyncEngine, data_dir: Path, n_members: int, n_votes: int, burst: int, seed_value: int
) -> dict[str, Any]:
    from bot.core.app import App
    from cogs.participation.service import ParticipationService
    from config.settings import FanloopSettings

    rng = random.Random(seed_value)
    t0 = time.perf_counter()
    cid = await seed(engine, n_members, n_votes, rng)
    seed_s = time.perf_counter() - t0
    clock = FakeClock(NOW)
    settings = FanloopSettings.model_validate(
        {"data_dir": data_dir, "cogs": ["cogs.suggestions", "cogs.participation"]}
    )
    app = await App.create(settings, clock, engine=engine, migrate=False)
    service = app.services.get(ParticipationService)
    await app.community_settings.set(cid, "points_daily_cap", "0")

    recompute_s, built = await _timed(lambda: service.recompute(cid))
    clock.advance(timedelta(minutes=1))
    reconcile_s, _ = await _timed(lambda: service.reconcile(cid))
    clock.advance(timedelta(minutes=1))
    quiet_sync_s, _ = await _timed(lambda: service.refresh(cid))

    clock.advance(timedelta(minutes=1))
    await add_votes(engine, cid, burst, clock.now(), rng)
    sync_s, _ = await _timed(lambda: service.refresh(cid))
    after_sync = sum(t.points for t in await service.ledger.totals(cid))

    clock.advance(timedelta(minutes=1))
    await add_votes(engine, cid, burst, clock.now(), rng)
    baseline_s, _ = await _timed(lambda: service.reconcile(cid))
    after_reconcile = sum(t.points for t in await service.ledger.totals(cid))

    someone = rng.randint(1, n_members)
    week_s, week = await _timed(lambda: service.standings(cid, "week", someone))
    all_s, _ = await _timed(lambda: service.standings(cid, "all", someone))
    profile_s, _ = await _timed(lambda: service.profile(cid, someone))

    check = await service.recompute(cid)
    result = {
        "members": n_members,
        "votes": n_votes,
        "ledger_rows": built.rows,
        "burst": burst,
        "seed_s": round(seed_s, 3),
        "recompute_s": round(recompute_s, 3),
        "reconcile_unchanged_s": round(reconcile_s, 3),
        "sync_nothing_new_s": round(quiet_sync_s, 3),
        "sync_burst_s": round(sync_s, 3),
        "reconcile_burst_s": round(baseline_s, 3),
        "sync_speedup": round(baseline_s / sync_s, 1) if sync_s else None,
        "burst_credited": after_sync - built.points_after,
        "leaderboard_week_s": round(week_s, 3),
        "leaderboard_all_s": round(all_s, 3),
        "ranked_week": week.ranked,
        "profile_s": round(profile_s, 3),
        "recompute_matches": check.points_before == check.points_after == after_reconcile,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    return result


def bench(args: argparse.Namespace) -> int:
    return runtime.run(_bench(args))


async def _bench(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        engine = create_engine(url)
        try:
            await upgrade(engine)
            result = await run(engine, Path(tmp), args.members, args.votes, args.burst, args.seed)
        finally:
            await engine.dispose()
    if args.json:
        print(json.dumps(result))
        return 0
    r = result
    print(
        f"community: {r['members']} members, {r['votes']} votes, "
        f"{r['ledger_rows']} ledger rows (seeded in {r['seed_s']} s)"
    )
    burst = r["burst"]
    lines = [
        ("first full build (recompute)", f"{r['recompute_s']:.3f} s"),
        ("reconcile, nothing changed", f"{r['reconcile_unchanged_s']:.3f} s"),
        ("incremental sync, nothing new", f"{r['sync_nothing_new_s']:.3f} s"),
        (
            f"incremental sync, {burst} new votes",
            f"{r['sync_burst_s']:.3f} s (credited {r['burst_credited']} points)",
        ),
        (
            f"baseline: reconcile, {burst} new votes",
            f"{r['reconcile_burst_s']:.3f} s (incremental is {r['sync_speedup']}x faster)",
        ),
        (f"leaderboard, week ({r['ranked_week']} ranked)", f"{r['leaderboard_week_s']:.3f} s"),
        ("leaderboard, all time", f"{r['leaderboard_all_s']:.3f} s"),
        ("profile", f"{r['profile_s']:.3f} s"),
        ("recompute equals the synced ledger", str(r["recompute_matches"])),
        ("peak RSS", f"{r['peak_rss_mb']:.1f} MB"),
    ]
    for label, value in lines:
        print(f"{label + ':':<42}{value}")
    return 0


def register_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "participation", help="ledger sync vs full reconciliation on a large community"
    )
    p.add_argument("--members", type=int, default=20_000)
    p.add_argument("--votes", type=int, default=200_000)
    p.add_argument("--burst", type=int, default=1_000, help="new votes between two syncs")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=bench)
