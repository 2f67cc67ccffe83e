"""`fanloop bench drops`: a flash burst where every reserver claims, through the real claim
engine, and the naive baseline (one transaction per claim) in the same run.

The baseline runs on data of the same shape (same quota/reservers ratio, same burst order);
when `--reservers` exceeds `--naive-max` it runs on a proportionally scaled-down copy so that
the run still finishes, and the engine is measured on that same copy too for a like-for-like
figure (`engine_scaled_claims_per_s`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import resource
import sys
import time
from array import array
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.discord.respond import Tuning as DiscordTuning
from bot.adapters.telegram.adapter import CONCURRENCY as TELEGRAM_CONCURRENCY
from bot.core import runtime
from bot.core.clock import FakeClock
from bot.core.i18n import Translator
from cogs.drops import lottery
from cogs.drops.claims import MAX_BATCH, NOT_RESERVED, ClaimEngine, ClaimResult, ClaimStatus
from cogs.drops.notices import WinNotices
from cogs.drops.redemption_codes import new_redemption_code
from cogs.drops.reservation_batcher import ReservationBatcher
from devtools.scratch import ScratchDb
from storage.core.schema import accounts, communities, outbox
from storage.drops.claims import ClaimStore
from storage.drops.drops import DropsRepo
from storage.drops.reservations import ReservationsRepo
from storage.drops.schema import drops, reservations, slots, waitlist, wins
from storage.types import UTCDateTime

DROP_AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
# The most claims one process can have waiting on its engine: every claim is awaited by a
# handler, and the Discord and Telegram adapters each run at most this many handlers at once
# (the rest of a burst waits, acknowledged, in the adapter's queue). With a closed loop the
# latency of a claim is the claims in flight divided by the rate, so the count matters:
# `--concurrency` sets another (docs/drops.md, *Measuring*).
IN_FLIGHT = DiscordTuning().max_concurrency + TELEGRAM_CONCURRENCY
Claim = Callable[[int], Awaitable[ClaimResult]]


async def seed(
    engine: AsyncEngine, quota: int, reservers: int, waitlist_cap: int, *, reserved: bool = True
) -> int:
    """A community, `reservers` accounts that all reserved one flash drop (or, not `reserved`,
    that have not yet); returns its id."""
    before = DROP_AT - timedelta(days=1)
    async with engine.begin() as conn:
        cid = (
            await conn.execute(insert(communities).values(name="bench", created_at=before))
        ).inserted_primary_key[0]  # type: ignore[index]
        owner = (
            await conn.execute(insert(accounts).values(created_at=before))
        ).inserted_primary_key[0]  # type: ignore[index]
        seed_hex = lottery.new_seed()
        drop_id = (
            await conn.execute(
                insert(drops).values(
                    community_id=cid, created_by=owner, name="bench", mode="flash", quota=quota,
                    per_account=1, waitlist=waitlist_cap, opens_at=before,
                    closes_at=DROP_AT, drop_at=DROP_AT, confirm_seconds=86400, seed=seed_hex,
                    commitment=lottery.commitment(seed_hex), created_at=before,
                    updated_at=before, opened_at=before, started_at=DROP_AT,
                )
            )
        ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
    first = owner + 1
    await _fill(engine, int(drop_id), first, first + reservers - 1, before, reserved)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(
                text("SELECT setval(pg_get_serial_sequence('accounts', 'id'), :v)"),
                {"v": first + reservers},
            )
            await conn.execute(text("ANALYZE"))
    return int(drop_id)


async def _fill(
    engine: AsyncEngine, drop_id: int, first: int, last: int, at: datetime, reserved: bool
) -> None:
    """Accounts first..last, each with a reservation of the drop: two set-based statements."""
    if engine.dialect.name == "postgresql":
        numbers = (
            "SELECT i FROM generate_series(CAST(:first AS INTEGER), CAST(:last AS INTEGER)) AS i"
        )
    else:
        numbers = (
            "WITH RECURSIVE n(i) AS (SELECT :first UNION ALL SELECT i + 1 FROM n WHERE i < :last)"
            " SELECT i FROM n"
        )
    stamp = bindparam("at", type_=UTCDateTime())
    params = {"first": first, "last": last, "at": at, "drop": drop_id}
    async with engine.begin() as conn:
        await conn.execute(
            text(
                f"INSERT INTO accounts (id, created_at) SELECT i, :at FROM ({numbers}) AS s"
            ).bindparams(stamp),
            params,
        )
        if not reserved:
            return
        await conn.execute(
            text(
                "INSERT INTO drop_reservations (drop_id, account_id, units, reserved_at)"
                f" SELECT CAST(:drop AS INTEGER), i, 1, :at FROM ({numbers}) AS s"
            ).bindparams(stamp),
            params,
        )


@dataclass
class Answers:
    """What the claimers were told: every code announced, and how many got each answer."""

    told: dict[int, str] = field(default_factory=dict)  # account -> code, for every "won"
    statuses: Counter[str] = field(default_factory=Counter)


async def burst(
    claim: Claim, order: list[int], concurrency: int
) -> tuple[float, array[float], Answers]:
    """Every account in `order` claims once, `concurrency` at a time; (seconds, latencies ms,
    answers)."""
    it: Iterator[int] = iter(order)
    latencies: array[float] = array("d")
    answers = Answers()
    told, statuses = answers.told, answers.statuses
    clock = time.perf_counter

    async def client() -> None:
        for account in it:
            t0 = clock()
            result = await claim(account)
            latencies.append((clock() - t0) * 1000)
            statuses[result.status] += 1
            if result.status == ClaimStatus.WON:
                told[account] = result.code or ""

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return time.perf_counter() - t0, latencies, answers


async def naive_claim(
    engine: AsyncEngine,
    drop_id: int,
    quota: int,
    waitlist_cap: int,
    account: int,
    now: datetime,
    community_id: int,
) -> ClaimResult:
    """The straightforward way: one transaction per claim, the database decides everything
    (on PostgreSQL the drop's row is locked, so concurrent claims queue instead of colliding)."""
    for _ in range(20):
        try:
            async with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    await conn.execute(
                        select(drops.c.id).where(drops.c.id == drop_id).with_for_update()
                    )
                reserved = (
                    await conn.execute(
                        select(reservations.c.units).where(
                            reservations.c.drop_id == drop_id, reservations.c.account_id == account
                        )
                    )
                ).first()
                if reserved is None:
                    return ClaimResult(ClaimStatus.NOT_RESERVED)
                held = (
                    await conn.execute(
                        select(wins.c.code).where(
                            wins.c.drop_id == drop_id, wins.c.account_id == account
                        )
                    )
                ).first()
                if held is not None:
                    return ClaimResult(ClaimStatus.WON, held.code, 1, again=True)
                top = (
                    await conn.execute(
                        select(func.coalesce(func.max(slots.c.slot), 0)).where(
                            slots.c.drop_id == drop_id
                        )
                    )
                ).scalar_one()
                if top >= quota:
                    pos = (
                        await conn.execute(
                            select(func.coalesce(func.max(waitlist.c.position), 0)).where(
                                waitlist.c.drop_id == drop_id
                            )
                        )
                    ).scalar_one()
                    if pos >= waitlist_cap:
                        return ClaimResult(ClaimStatus.SOLD_OUT)
                    await conn.execute(
                        insert(waitlist).values(
                            drop_id=drop_id, position=pos + 1, account_id=account, units=1,
                            added_at=now,
                        )
                    )  # fmt: skip
                    return ClaimResult(ClaimStatus.WAITLISTED, position=pos + 1)
                code = new_redemption_code()
                await conn.execute(
                    insert(wins).values(
                        drop_id=drop_id, account_id=account, code=code, units=1, source="flash",
                        won_at=now, confirm_by=now + timedelta(days=1),
                    )
                )  # fmt: skip
                await conn.execute(
                    insert(slots).values(
                        drop_id=drop_id, slot=top + 1, quota=quota, per_account=1,
                        account_id=account, unit=1,
                    )
                )  # fmt: skip
                await conn.execute(
                    insert(outbox).values(
                        community_id=community_id, platform="bench", kind="member",
                        target=str(account), account_id=account, payload={"text": code},
                        created_at=now,
                        next_attempt_at=now,
                    )
                )  # fmt: skip
                return ClaimResult(ClaimStatus.WON, code, 1)
        except IntegrityError:
            continue
    raise RuntimeError("naive claim kept colliding")


async def audit(engine: AsyncEngine, drop_id: int, quota: int, answers: Answers) -> dict[str, int]:
    async with engine.connect() as conn:
        taken = (
            await conn.execute(select(func.count()).where(slots.c.drop_id == drop_id))
        ).scalar_one()
        beyond = (
            await conn.execute(
                select(func.count()).where(slots.c.drop_id == drop_id, slots.c.slot > quota)
            )
        ).scalar_one()
        dup = (
            await conn.execute(
                select(func.count()).select_from(
                    select(slots.c.account_id)
                    .where(slots.c.drop_id == drop_id)
                    .group_by(slots.c.account_id)
                    .having(func.count() > 1)
                    .subquery()
                )
            )
        ).scalar_one()
        stored = {
            int(r.account_id): r.code
            for r in await conn.execute(
                select(wins.c.account_id, wins.c.code).where(wins.c.drop_id == drop_id)
            )
        }
        # A winner's message: a private message to them holding their code (win messages
        # carry no dedup key: the win's primary key makes them once).
        told_codes: Counter[int] = Counter()  # winner -> messages holding their code
        for r in await conn.execute(
            select(outbox.c.account_id, outbox.c.payload).where(outbox.c.kind == "member")
        ):
            if r.account_id is None:
                continue
            account = int(r.account_id)
            code = stored.get(account)
            if code is not None and code in r.payload.get("text", ""):
                told_codes[account] += 1
    lost = sum(1 for a, code in answers.told.items() if stored.get(a) != code)
    return {
        "winners": len(stored),
        "oversold": max(0, int(taken) - quota) + int(beyond),
        "duplicate_winners": int(dup),
        "lost_wins": lost,
        "win_messages": told_codes.total(),
        "winners_without_message": len(stored.keys() - told_codes.keys()),
    }


def pct(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


async def run_engine(
    url: str | None, quota: int, reservers: int, concurrency: int, batch: int, rng_seed: int
) -> dict[str, Any]:
    async with ScratchDb(url) as engine:
        t0 = time.perf_counter()
        drop_id = await seed(engine, quota, reservers, quota)
        seeded = time.perf_counter() - t0
        clock = FakeClock(DROP_AT + timedelta(seconds=1))
        claims = ClaimEngine(ClaimStore(engine), clock, new_redemption_code, max_batch=batch)
        t0 = time.perf_counter()
        await claims.prepare(drop_id)
        loaded = time.perf_counter() - t0
        order = await _order(engine, drop_id, rng_seed)
        notices = await win_notices(engine, drop_id)
        community = notices.drop.community_id

        def claim(account: int) -> Awaitable[ClaimResult]:
            # As the service does for each press: the message with the code, should it win.
            notice = notices.for_member(community, "bench", str(account), "en")
            return claims.claim(drop_id, account, notice=notice)

        cpu0 = time.process_time()
        elapsed, lat, answers = await burst(claim, order, concurrency)
        cpu = time.process_time() - cpu0
        await claims.close()
        checks = await audit(engine, drop_id, quota, answers)
        return {
            "attempts": len(order),
            "seconds": round(elapsed, 3),
            "cpu_s": round(cpu, 3),
            "claims_per_s": round(len(order) / elapsed, 1),
            "p50_ms": round(pct(lat, 0.50), 2),
            "p99_ms": round(pct(lat, 0.99), 2),
            "batches": claims.batches,
            "mean_batch": round((len(order) - claims.from_memory) / max(1, claims.batches), 1),
            "answered_from_memory": claims.from_memory,
            "fallbacks": claims.fallbacks,
            "seed_s": round(seeded, 2),
            "load_s": round(loaded, 2),
            **checks,
        }


async def win_notices(engine: AsyncEngine, drop_id: int) -> WinNotices:
    translator = Translator()
    translator.load_package("cogs.drops")
    drop = await DropsRepo(engine).get(drop_id)
    assert drop is not None
    return WinNotices(translator, drop, ZoneInfo("UTC"))


async def run_naive(
    url: str | None, quota: int, reservers: int, concurrency: int, rng_seed: int
) -> dict[str, Any]:
    async with ScratchDb(url) as engine:
        drop_id = await seed(engine, quota, reservers, quota)
        now = DROP_AT + timedelta(seconds=1)
        order = await _order(engine, drop_id, rng_seed)
        workers = 1 if engine.dialect.name == "sqlite" else concurrency
        drop = await DropsRepo(engine).get(drop_id)
        assert drop is not None
        cid = drop.community_id
        elapsed, lat, answers = await burst(
            lambda a: naive_claim(engine, drop_id, quota, quota, a, now, cid), order, workers
        )
        checks = await audit(engine, drop_id, quota, answers)
        return {
            "attempts": len(order),
            "claims_per_s": round(len(order) / elapsed, 1),
            "p50_ms": round(pct(lat, 0.50), 2),
            "p99_ms": round(pct(lat, 0.99), 2),
            "workers": workers,
            **checks,
        }


async def _order(engine: AsyncEngine, drop_id: int, rng_seed: int) -> list[int]:
    async with engine.connect() as conn:
        order = [
            int(a)
            for a in (
                await conn.execute(
                    select(reservations.c.account_id).where(reservations.c.drop_id == drop_id)
                )
            ).scalars()
        ]
    random.Random(rng_seed).shuffle(order)
    return order


async def run(
    *,
    url: str | None,
    quota: int,
    reservers: int,
    concurrency: int = IN_FLIGHT,
    batch: int = MAX_BATCH,
    naive_max: int = 20_000,
    rng_seed: int = 7,
) -> dict[str, Any]:
    full = await run_engine(url, quota, reservers, concurrency, batch, rng_seed)
    scale = max(1, math.ceil(reservers / naive_max))
    small_quota, small_reservers = max(1, quota // scale), max(1, reservers // scale)
    naive = await run_naive(url, small_quota, small_reservers, min(concurrency, 16), rng_seed)
    scaled = (
        full
        if scale == 1
        else await run_engine(url, small_quota, small_reservers, concurrency, batch, rng_seed)
    )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "db": "postgresql" if url and not url.startswith("sqlite") else "sqlite",
        "quota": quota,
        "reservers": reservers,
        "concurrency": concurrency,
        "max_batch": batch,
        **full,
        "naive_scale": scale,
        "naive_attempts": naive["attempts"],
        "naive_claims_per_s": naive["claims_per_s"],
        "naive_p50_ms": naive["p50_ms"],
        "naive_p99_ms": naive["p99_ms"],
        "naive_workers": naive["workers"],
        "naive_oversold": naive["oversold"],
        "engine_scaled_claims_per_s": scaled["claims_per_s"],
        "speedup_same_data": round(scaled["claims_per_s"] / naive["claims_per_s"], 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "load_avg": round(os.getloadavg()[0], 2),
    }


async def run_reserve_burst(
    url: str | None, reservers: int, concurrency: int, batched: bool, rng_seed: int
) -> dict[str, Any]:
    """Every account presses Reserve once (and one in ten twice), through the group commit or
    one transaction per press."""
    async with ScratchDb(url) as engine:
        drop_id = await seed(engine, 1, reservers, 0, reserved=False)
        async with engine.connect() as conn:
            order = [
                int(a)
                for a in (
                    await conn.execute(select(accounts.c.id).where(accounts.c.id > 1))
                ).scalars()
            ]
        order += order[: len(order) // 10]  # double presses
        random.Random(rng_seed).shuffle(order)
        repo = ReservationsRepo(engine)
        now = DROP_AT - timedelta(hours=1)
        batcher = ReservationBatcher(repo, lambda: now)
        made = 0

        async def press(account: int) -> ClaimResult:
            nonlocal made
            if batched:
                created = await batcher.reserve(drop_id, account, 1)
            else:
                created = await repo.reserve(drop_id, account, 1, now)
            made += int(created)
            return NOT_RESERVED  # the answer is not what is measured here

        workers = concurrency if batched or engine.dialect.name != "sqlite" else 1
        elapsed, lat, _ = await burst(press, order, workers)
        await batcher.close()
        async with engine.connect() as conn:
            stored = (
                await conn.execute(select(func.count()).where(reservations.c.drop_id == drop_id))
            ).scalar_one()
        return {
            "presses": len(order),
            "per_s": round(len(order) / elapsed, 1),
            "p50_ms": round(pct(lat, 0.50), 2),
            "p99_ms": round(pct(lat, 0.99), 2),
            "batches": batcher.batches,
            "workers": workers,
            "reserved": int(stored),
            "told_made": made,
        }


async def run_reserve(
    *, url: str | None, reservers: int, concurrency: int, naive_max: int, rng_seed: int = 7
) -> dict[str, Any]:
    full = await run_reserve_burst(url, reservers, concurrency, True, rng_seed)
    small = min(reservers, naive_max)
    naive = await run_reserve_burst(url, small, min(concurrency, 16), False, rng_seed)
    return {
        "db": "postgresql" if url and not url.startswith("sqlite") else "sqlite",
        "scenario": "reserve",
        "reservers": reservers,
        "concurrency": concurrency,
        **{f"reserve_{k}": v for k, v in full.items()},
        # one reservation per account, and each account told "reserved" exactly once
        "duplicates": full["reserved"] - reservers + abs(full["told_made"] - reservers),
        **{f"naive_{k}": v for k, v in naive.items()},
        "load_avg": round(os.getloadavg()[0], 2),
    }


def summary(stats: dict[str, Any]) -> str:
    lines = [f"{k:>28}: {v}" for k, v in stats.items()]
    return "\n".join(lines)


def bench(args: argparse.Namespace) -> int:
    if args.quota < 1 or args.reservers < 1 or args.concurrency < 1 or args.batch < 1:
        print("fanloop bench drops: sizes must be positive", file=sys.stderr)
        return 2
    if args.scenario == "reserve":
        stats = runtime.run(
            run_reserve(
                url=args.db,
                reservers=args.reservers,
                concurrency=args.concurrency,
                naive_max=args.naive_max,
            )
        )
        print(json.dumps(stats) if args.json else summary(stats))
        return 1 if stats["duplicates"] else 0
    stats = runtime.run(
        run(
            url=args.db,
            quota=args.quota,
            reservers=args.reservers,
            concurrency=args.concurrency,
            batch=args.batch,
            naive_max=args.naive_max,
        )
    )
    print(json.dumps(stats) if args.json else summary(stats))
    bad = (
        stats["oversold"]
        or stats["duplicate_winners"]
        or stats["lost_wins"]
        or stats["winners_without_message"]
    )
    return 1 if bad else 0


def register_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("drops", help="flash claim burst: group-commit engine vs naive baseline")
    p.add_argument(
        "--scenario",
        choices=("claim", "reserve"),
        default="claim",
        help="claim: the flash claim burst; reserve: a burst of Reserve presses",
    )
    p.add_argument("--quota", type=int, default=100_000)
    p.add_argument("--reservers", type=int, default=1_000_000)
    p.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    p.add_argument(
        "--concurrency",
        type=int,
        default=IN_FLIGHT,
        help=f"claims in flight at once (default {IN_FLIGHT}: the Discord and Telegram "
        "adapters' handlers at work together)",
    )
    p.add_argument("--batch", type=int, default=MAX_BATCH, help="largest group commit")
    p.add_argument(
        "--naive-max",
        type=int,
        default=20_000,
        help="largest burst for the naive baseline (bigger ones run it on a scaled copy)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=bench)
