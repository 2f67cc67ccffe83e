"""`fanloop recompute-points`: rebuild the participation ledger from the stored events under the
current rules (after changing `points_*` settings, the daily cap or the time zone); and
`fanloop bench participation`: what keeping the ledger current costs on a large community."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from bot.cli.run import _settings
from config.settings import FanloopSettings

COG = "cogs.participation"


def recompute_points(args: argparse.Namespace) -> int:
    overrides = {"database_url": args.db} if args.db else {}
    settings = _settings(args, **overrides)
    if COG not in settings.cogs:
        print(f"fanloop: the participation cog ({COG}) is not enabled", file=sys.stderr)
        return 2
    return asyncio.run(_recompute(settings, args.community, args.json))


async def _recompute(settings: FanloopSettings, community: int | None, as_json: bool) -> int:
    from bot.core.app import App
    from cogs.participation.service import ParticipationService

    app = await App.create(settings)
    try:
        service = app.services.get(ParticipationService)
        known = await service.ledger.communities()
        if community is not None and community not in known:
            print(f"fanloop: no community {community}", file=sys.stderr)
            return 2
        for cid in [community] if community is not None else known:
            r = await service.recompute(cid)
            if as_json:
                print(
                    json.dumps(
                        {
                            "community": cid,
                            "contributions": r.rows,
                            "members": r.members,
                            "points_before": r.points_before,
                            "points_after": r.points_after,
                        }
                    )
                )
            else:
                print(
                    f"community {cid}: {r.rows} contributions, {r.members} members with points, "
                    f"total points {r.points_before} -> {r.points_after}"
                )
    finally:
        await app.close()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "recompute-points",
        help="rebuild participation points from the stored events under the current rules",
    )
    p.add_argument("--db", help="database URL (default: the configured one)")
    p.add_argument("--community", type=int, help="only this community (default: all)")
    p.add_argument("--json", action="store_true", help="one JSON object per community")
    p.set_defaults(func=recompute_points)


def bench(args: argparse.Namespace) -> int:
    return asyncio.run(_bench(args))


async def _bench(args: argparse.Namespace) -> int:
    from cogs.participation.bench import run
    from storage.engine import create_engine
    from storage.migrate import upgrade

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
