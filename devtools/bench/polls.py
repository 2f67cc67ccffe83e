"""`fanloop bench polls`: a four-grid report at MIUI scale (100,000 fans a week).

Every fan puts every item in a grid through `WeeklyService.cast` — the path a button press
takes — with many presses in flight at once, as when a community answers the announcement.
Then the report closes, and the results are computed and the chart rendered as the bot does.
Baselines in the same run: one transaction per ballot (no group commit) on a sample, and the
results counted in Python from every ballot row instead of in the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from config.settings import DEFAULT_COGS, FanloopSettings
from storage.core.schema import accounts
from storage.weekly.ballots import Ballot
from storage.weekly.schema import fourgrid_ballots

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday, 10:00
NAMES = (
    "Dark mode everywhere",
    "深色模式定时切换",
    "Faster camera start",
    "相机启动更快",
    "Lock screen widgets",
    "锁屏小组件",
    "Battery graph per app",
    "应用耗电排行",
    "Quieter fan curve",
    "通知分组",
)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _grid(rng: random.Random, love: float) -> int:
    x = rng.random()
    if x < 0.15:
        return 3  # haven't tried
    x = (x - 0.15) / 0.85
    return 0 if x < love else (1 if x < love + (1 - love) * 0.6 else 2)


async def run(
    *, url: str | None, members: int, items: int, concurrency: int, sample: int
) -> dict[str, Any]:
    from cogs.weekly import config
    from cogs.weekly.flows import WeeklyFlows
    from cogs.weekly.results_views import chart_png
    from cogs.weekly.service import WeeklyService

    tmp = Path(tempfile.mkdtemp(prefix="fanloop-bench-polls-"))
    cogs = [c for c in DEFAULT_COGS if c != "cogs.weekly"] + ["cogs.weekly"]
    settings = FanloopSettings.model_validate(
        {"data_dir": tmp, "database_url": url, "cogs": cogs, "log_level": "WARNING"}
    )
    app = await App.create(settings, FakeClock(START))
    try:
        t0 = time.perf_counter()
        boss = await app.context(
            platform="bench",
            space_id="bench",
            space_name="bench",
            user_id="boss",
            display_name="boss",
            role=Role.ADMIN,
        )
        cid = boss.community.id
        svc = app.services.get(WeeklyService)
        titles = [
            f"{NAMES[i % len(NAMES)]} {i // len(NAMES) + 1}" if i >= len(NAMES) else NAMES[i]
            for i in range(items)
        ]
        release = await svc.record_release(
            cid, "bench", date(2026, 11, 20), list(titles), boss.member.account_id
        )
        report = await app.services.get(WeeklyFlows).open_report(release, None)
        item_ids = [i.id for i in await svc.items(release.id)]
        now = app.clock.now()
        async with app.engine.begin() as conn:
            first = (
                await conn.execute(select(accounts.c.id).order_by(accounts.c.id.desc()))
            ).scalar()
            for start in range(0, members + sample, 5000):
                n = min(5000, members + sample - start)
                await conn.execute(insert(accounts), [{"created_at": now}] * n)
        fans = list(range(int(first or 0) + 1, int(first or 0) + 1 + members))
        extra = list(range(fans[-1] + 1, fans[-1] + 1 + sample)) if fans else []
        setup_s = time.perf_counter() - t0

        rng = random.Random(5)
        loves = [0.25 + 0.5 * rng.random() for _ in item_ids]
        queue = iter(fans)

        async def fan_presses() -> None:
            local = random.Random()
            for account in queue:
                local.seed(account)
                for item, love in zip(item_ids, loves, strict=True):
                    await svc.cast(cid, report.id, item, account, _grid(local, love))

        load_before = os.getloadavg()[0]
        t0, cpu0, loop0 = time.perf_counter(), time.process_time(), time.thread_time()
        await asyncio.gather(*(fan_presses() for _ in range(concurrency)))
        ingest_s = time.perf_counter() - t0
        # CPU per ballot: the whole process (event loop, the SQLite driver's thread) and the
        # event loop's thread alone; less sensitive than the rate to a machine shared with others.
        cpu_s, loop_s = time.process_time() - cpu0, time.thread_time() - loop0
        load_after = os.getloadavg()[0]
        ballots = members * items
        rss_ingest = _rss_mb()

        # Baseline: one transaction per ballot, as without group commit (in another community,
        # so that the report measured above keeps exactly its own ballots).
        other = await app.context(
            platform="bench",
            space_id="baseline",
            space_name="baseline",
            user_id="boss",
            display_name="boss",
            role=Role.ADMIN,
        )
        base_release = await svc.record_release(
            other.community.id,
            "baseline",
            date(2026, 11, 20),
            list(titles),
            other.member.account_id,
        )
        base = await app.services.get(WeeklyFlows).open_report(base_release, None)
        base_items = [i.id for i in await svc.items(base_release.id)]
        t0 = time.perf_counter()
        for n, account in enumerate(extra):
            ballot = Ballot(other.community.id, base.id, base_items[n % items], account, n % 4, now)
            await svc.ballots.cast(ballot)
        single_s = time.perf_counter() - t0

        assert await svc.close(report)
        closed = await svc.report(cid, report.id)
        cfg = await config.load(app.community_settings, cid)
        t0 = time.perf_counter()
        results = await svc.results(closed, cfg)
        results_s = time.perf_counter() - t0

        tz = await app.community_tz(cid)
        t = app.translator
        t0 = time.perf_counter()
        png = chart_png(lambda key, **p: t("zh_CN", key, **p), "zh_CN", results, tz)
        chart_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        chart_png(lambda key, **p: t("en", key, **p), "en", results, tz)
        chart_warm_s = time.perf_counter() - t0
        peak = _rss_mb()

        # Baseline: every ballot row to Python, counted there.
        t0 = time.perf_counter()
        counts: dict[tuple[int, int], int] = {}
        accounts_seen: set[int] = set()
        async with app.engine.connect() as conn:
            rows = await conn.stream(
                select(
                    fourgrid_ballots.c.item_id,
                    fourgrid_ballots.c.grid,
                    fourgrid_ballots.c.account_id,
                ).where(fourgrid_ballots.c.report_id == report.id)
            )
            async for item, grid, account in rows:
                counts[(item, grid)] = counts.get((item, grid), 0) + 1
                accounts_seen.add(account)
        naive_s = time.perf_counter() - t0
        naive_total = sum(counts.values())
        stored = sum(sum(v) for v in (await svc.ballots.tallies(report.id)).values())
        top = results.ranking.ranked[0]
        return {
            "database": app.engine.dialect.name,
            "members": members,
            "items": items,
            "concurrency": concurrency,
            "ballots": ballots,
            "ballots_stored": stored,
            "ingest_s": round(ingest_s, 2),
            "ballots_per_s": round(ballots / ingest_s, 1),
            "cpu_us_per_ballot": round(cpu_s / ballots * 1e6, 1),
            "loop_cpu_us_per_ballot": round(loop_s / ballots * 1e6, 1),
            "batches": svc.batcher.batches,
            "mean_batch": round(svc.batcher.batched / max(svc.batcher.batches, 1), 1),
            "load_avg": [round(load_before, 2), round(load_after, 2)],
            "single_sample": sample,
            "single_ballots_per_s": round(sample / single_s, 1) if sample else None,
            "results_s": round(results_s, 3),
            "results_naive_s": round(naive_s, 3),
            "results_agree": naive_total == stored and len(accounts_seen) == results.turnout,
            "turnout": results.turnout,
            "top_item": top.title,
            "top_wilson_lower": round(top.score, 4),
            "chart_s": round(chart_s, 3),
            "chart_warm_s": round(chart_warm_s, 3),
            "chart_bytes": len(png),
            "setup_s": round(setup_s, 2),
            "peak_rss_mb": round(peak, 1),
            "rss_after_ingest_mb": round(rss_ingest, 1),
        }
    finally:
        await app.close()
        shutil.rmtree(tmp, ignore_errors=True)  # the SQLite file of a million ballots


def summary(s: dict[str, Any]) -> str:
    single = s["single_ballots_per_s"]
    lines = [
        f"four-grid report: {s['members']:,} fans × {s['items']} items on {s['database']}",
        f"  ballots through the service: {s['ballots']:,} in {s['ingest_s']} s"
        f" = {s['ballots_per_s']:,} ballots/s ({s['concurrency']} presses in flight)",
        f"  {s['batches']:,} transactions of {s['mean_batch']} ballots on average;"
        f" CPU {s['cpu_us_per_ballot']} µs a ballot ({s['loop_cpu_us_per_ballot']} µs of it"
        f" on the event loop); load average {s['load_avg'][0]} → {s['load_avg'][1]}",
        f"  baseline, one transaction per ballot: {single:,} ballots/s"
        f" ({s['single_sample']:,} ballots)"
        if single
        else "  baseline skipped",
        f"  results (in the database): {s['results_s']} s;"
        f" baseline, counted in Python: {s['results_naive_s']} s;"
        f" agree: {s['results_agree']}",
        f"  turnout {s['turnout']:,}; top item {s['top_item']!r}"
        f" (Wilson lower bound {s['top_wilson_lower']})",
        f"  chart: {s['chart_s']} s first render (font loading included),"
        f" {s['chart_warm_s']} s next; {s['chart_bytes']:,} bytes",
        f"  peak RSS {s['peak_rss_mb']} MB (after ingest {s['rss_after_ingest_mb']} MB)",
    ]
    return "\n".join(lines)


def bench(args: argparse.Namespace) -> int:
    if args.members < 1 or args.items < 1 or args.concurrency < 1 or args.sample < 0:
        print("fanloop bench polls: sizes must be positive", file=sys.stderr)
        return 2
    if args.items > 25:
        print("fanloop bench polls: a release holds at most 25 items", file=sys.stderr)
        return 2
    stats = asyncio.run(
        run(
            url=args.db,
            members=args.members,
            items=args.items,
            concurrency=args.concurrency,
            sample=args.sample,
        )
    )
    print(json.dumps(stats, ensure_ascii=False) if args.json else summary(stats))
    ok = stats["ballots_stored"] == stats["ballots"] and stats["results_agree"]
    return 0 if ok else 1


def register_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("polls", help="four-grid report: ballots/s, results and chart time, memory")
    p.add_argument("--members", type=int, default=100_000, help="fans who fill in the report")
    p.add_argument("--items", type=int, default=10, help="items in the release (at most 25)")
    p.add_argument("--concurrency", type=int, default=256, help="button presses in flight")
    p.add_argument(
        "--sample", type=int, default=2_000, help="ballots for the one-transaction baseline"
    )
    p.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=bench)
