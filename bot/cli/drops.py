"""`fanloop verify-draw`: check a lottery draw."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from cogs.drops import lottery
from cogs.drops.verify import DrawCheck, check_draw, check_stored_draw


def _print_check(check: DrawCheck, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                {
                    "ok": check.ok,
                    "commitment_ok": check.commitment_ok,
                    "entrants_ok": check.entrants_ok,
                    "stored_ok": check.stored_ok,
                    "handles_ok": check.handles_ok,
                    "winners": [{"account_id": a, "units": u} for a, u in check.winners],
                    "waiting": [{"account_id": a, "units": u} for a, u in check.waiting],
                    "problems": check.problems,
                }
            )
        )
        return

    def mark(v: bool | None) -> str:
        return "not checked" if v is None else ("OK" if v else "MISMATCH")

    print(f"commitment sha256(seed): {mark(check.commitment_ok)}")
    print(f"entrant list sha256:     {mark(check.entrants_ok)}")
    if check.stored_ok is not None:
        print(f"stored winners:          {mark(check.stored_ok)}")
    if check.handles_ok is not None:
        print(f"entrant handles:         {mark(check.handles_ok)}")
    print(f"winners ({len(check.winners)}, in draw order): account_id,units,handle")
    for account, units in check.winners:
        print(f"{account},{units},{lottery.handle(check.seed, account)}")
    for problem in check.problems:
        print(f"problem: {problem}", file=sys.stderr)


def verify_draw(args: argparse.Namespace) -> int:
    if args.db:
        from storage.engine import create_engine

        async def go() -> DrawCheck:
            engine = create_engine(args.db)
            try:
                return await check_stored_draw(engine, args.drop)
            finally:
                await engine.dispose()

        if args.drop is None:
            print("fanloop verify-draw: --db needs --drop", file=sys.stderr)
            return 2
        try:
            check = asyncio.run(go())
        except LookupError as exc:
            print(f"fanloop verify-draw: {exc}", file=sys.stderr)
            return 2
    else:
        if not (args.seed and args.entrants and args.slots is not None):
            print(
                "fanloop verify-draw: give --seed, --entrants and --slots (or --db and --drop)",
                file=sys.stderr,
            )
            return 2
        try:
            seed_ok = len(bytes.fromhex(args.seed)) == 32
        except ValueError:
            seed_ok = False
        if not seed_ok:
            print("fanloop verify-draw: the seed is 64 hexadecimal digits", file=sys.stderr)
            return 2
        lines = lottery.parse_entrant_file(Path(args.entrants).read_text(encoding="ascii"))
        check = check_draw(
            args.seed,
            [(a, u) for a, u, _ in lines],
            args.slots,
            commitment=args.commitment,
            entrants_hash=args.entrants_hash,
            waitlist=args.waitlist,
            handles={a: h for a, _, h in lines if h is not None},
        )
    _print_check(check, args.json)
    return 0 if check.ok else 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("verify-draw", help="recompute a lottery draw's winners and check it")
    p.add_argument("--seed", help="the revealed seed (64 hex digits)")
    p.add_argument(
        "--entrants", help="the entrant list file (/drop entrants): account_id,units,handle"
    )
    p.add_argument("--slots", type=int, help="how many units were drawn")
    p.add_argument("--commitment", help="the published sha256(seed), to check")
    p.add_argument("--entrants-hash", help="the published sha256 of the entrant list, to check")
    p.add_argument("--waitlist", type=int, default=0, help="also list this many waiting")
    p.add_argument("--db", help="database URL: check a stored draw (with --drop)")
    p.add_argument("--drop", type=int, help="the drop number (with --db)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=verify_draw)
