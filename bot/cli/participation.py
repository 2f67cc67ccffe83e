"""`fanloop recompute-points`: rebuild the participation ledger from the stored events under the
current rules (after changing `points_*` settings, the daily cap or the time zone)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from bot.cli.run import _settings
from config.settings import FanloopSettings
from storage.engine import default_sqlite_url, sqlite_file_missing

COG = "cogs.participation"


def recompute_points(args: argparse.Namespace) -> int:
    overrides = {"database_url": args.db} if args.db else {}
    settings = _settings(args, **overrides)
    url = settings.database_url or default_sqlite_url(settings.data_dir)
    missing = sqlite_file_missing(url)
    if missing is not None:  # rebuilding points needs the database that holds them
        print(f"fanloop: no database at {missing}", file=sys.stderr)
        return 2
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
