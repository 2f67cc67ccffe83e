"""`fanloop bench votes`: the core "+1" path alone, with no platform in between.

N distinct members vote for one suggestion straight through `app.context(...)` and the
dispatcher, the way every adapter does it, `--concurrency` presses at once (a burst: every
member presses at the same moment; 500 by default), in rounds on a fresh database:

- "new members press": each member's first press (account, identity and membership are created);
- "members press": the same members, now known, press the +1 button of a second suggestion;
- "members press again": the same presses delivered a second time (same receipts): nothing
  changes, the +1 is not taken back;
- "members reply +1": the same members reply "+1" to a third suggestion's message;
- "before: members press": the baseline, in the same run: the path before the vote writer and
  the identity cache (every press resolves its member in a transaction of its own, then votes
  in a transaction of its own), for `--baseline-members` of the members, on a fourth suggestion;
- "before: new members press": the baseline of the first round, in the same run: new members
  (`--baseline-members` of them) created one transaction each, as before they were created
  together (the vote writer and the identity cache as in the first round), on a fifth
  suggestion.
- with `--model NAME` (a `dedup_model`), "members press, posts": the same members
  press the +1 of a sixth suggestion while one author posts suggestions one after another
  (each embedded in the model's worker thread, compared with the board, stored): its figures
  beside "members press" tell whether embedding slows a burst of votes.

Every press carries a receipt (a delivery id, as the Telegram and Discord adapters pass), which
the vote writer records with the vote. For each round it prints presses per second, the time of
one press (p50/p99), and what one press costs the database: transactions (connections taken from
the pool and released), the ones of them that wrote, and SQL statements (on PostgreSQL these
include the rate-limit check, one autocommitted statement per batch of presses). The votes
counted must equal the members in every round (the command exits with 1 otherwise). Each round
carries the one-minute load average at its end (`load_avg`): on a shared machine, read the
rounds' figures beside it, and the CPU time per press rather than the presses per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core import runtime
from bot.core.app import App
from bot.core.clock import SystemClock
from bot.core.commands import Role
from bot.core.context import Context, Receipt
from config.settings import FanloopSettings
from devtools.scratch import ScratchDb

PLATFORM = "bench"
SPACE = "fans"
WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass
class Counter:
    """Transactions and statements seen by one engine (SQLAlchemy connection events)."""

    transactions: int = 0
    writing: int = 0
    statements: int = 0

    def attach(self, engine: AsyncEngine) -> None:
        sync = engine.sync_engine

        @event.listens_for(sync, "begin")
        def _begin(conn: Any) -> None:
            self.transactions += 1
            conn.info["bench_wrote"] = False

        @event.listens_for(sync, "before_cursor_execute")
        def _statement(conn: Any, _c: Any, statement: str, *_: Any) -> None:
            self.statements += 1
            if statement.lstrip()[:6].upper() in WRITES:
                conn.info["bench_wrote"] = True

        @event.listens_for(sync, "commit")
        def _commit(conn: Any) -> None:
            if conn.info.pop("bench_wrote", False):
                self.writing += 1

    def snapshot(self) -> tuple[int, int, int]:
        return self.transactions, self.writing, self.statements


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def _context(app: App, user: str, name: str, receipt: Receipt | None = None) -> Context:
    return await app.context(
        platform=PLATFORM,
        space_id=SPACE,
        space_name="Bench fans",
        user_id=user,
        display_name=name,
        role=Role.FAN,
        receipt=receipt,
    )


async def _votes(app: App, cid: int, sid: int) -> int:
    """The votes cast in the round (the rows), or -1 when the suggestion's count disagrees."""
    from cogs.suggestions.service import SuggestionService
    from storage.suggestions.schema import votes

    row = await app.services.get(SuggestionService).get(cid, sid)
    async with app.engine.connect() as conn:
        q = select(func.count()).where(votes.c.suggestion_id == sid)
        rows = int((await conn.execute(q)).scalar_one())
    if rows != row.votes:
        return -1
    return rows - 1  # the author's own vote comes with the suggestion


async def _round(
    app: App,
    counter: Counter,
    name: str,
    members: int,
    concurrency: int,
    act: Callable[[Context], Awaitable[object]],
    cid: int,
    sid: int,
    receipts: str | None,
    users: str = "fan",
) -> dict[str, Any]:
    latencies: list[float] = []
    queue = iter(range(members))

    async def one(i: int) -> None:
        t0 = time.perf_counter()
        receipt = Receipt(PLATFORM, f"{receipts}-{i}") if receipts else None
        ctx = await _context(app, f"{users}{i}", f"{users.title()} {i}", receipt)
        reply = await act(ctx)
        if getattr(reply, "error", False):
            raise RuntimeError(f"a press failed: {getattr(reply, 'text', '')}")
        latencies.append((time.perf_counter() - t0) * 1000)

    async def presser() -> None:  # `concurrency` of these: each press as soon as one is done
        for i in queue:
            await one(i)

    before = counter.snapshot()
    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(presser() for _ in range(min(concurrency, members))))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    tx, writing, statements = (b - a for a, b in zip(before, counter.snapshot(), strict=True))
    return {
        "round": name,
        "presses": members,
        "seconds": round(elapsed, 3),
        "per_s": round(members / elapsed, 1),
        "p50_ms": round(_percentile(latencies, 0.50), 2),
        "p99_ms": round(_percentile(latencies, 0.99), 2),
        # CPU time of the whole process (every thread) per press: what a press costs when the
        # machine is shared and the wall clock says little.
        "cpu_ms": round(cpu * 1000 / members, 3),
        "transactions": round(tx / members, 2),
        "writing": round(writing / members, 2),
        "statements": round(statements / members, 2),
        "votes": await _votes(app, cid, sid),
        "load_avg": round(os.getloadavg()[0], 2),
    }


#: What the author posts during the round with a model: English and Chinese requests, each
#: posted with a number so that no text is embedded twice.
POSTED = (
    "Let me pin a message in the group chat",
    "Show who read my message in a group",
    "Scheduled messages that send themselves later",
    "希望可以设置消息免打扰的时间段",
    "支持把聊天记录导出成文件",
    "群里的投票可以匿名吗",
)


async def _poster(app: App, author: Context, stop: asyncio.Event) -> int:
    """Post suggestions one after another until `stop`; how many were posted."""
    from cogs.suggestions.service import SuggestionService

    service = app.services.get(SuggestionService)
    posted = 0
    while not stop.is_set():
        text = f"{POSTED[posted % len(POSTED)]} ({posted})"
        sub = await service.submit(
            author.community.id, author.member.account_id, text, "", None, force=True
        )
        assert sub.posted is not None
        posted += 1
    return posted


async def run(
    members: int,
    concurrency: int,
    db: str | None,
    baseline_members: int = 500,
    model: str | None = None,
) -> dict[str, Any]:
    from cogs.suggestions.service import SuggestionService

    postgres = bool(db) and not str(db).startswith("sqlite")
    with tempfile.TemporaryDirectory() as tmp:
        async with ScratchDb(db) as engine:
            settings = FanloopSettings.model_validate(
                {"data_dir": tmp, "log_level": "WARNING", "dedup_model": model}
            )
            app = await App.create(settings, SystemClock(), engine=engine, migrate=False)
            author = await _context(app, "author", "Author")
            cid = author.community.id
            s = app.services.get(SuggestionService)
            sids = []
            titles = (
                "Dark mode for the app",
                "Offline maps",
                "Bigger fonts in settings",
                "Export my data",
                "Widgets on the home screen",
                "Search in the chat history",
            )
            for title in titles:
                sub = await s.submit(cid, author.member.account_id, title, "", None, force=True)
                assert sub.posted is not None
                sids.append(sub.posted.id)
            counter = Counter()
            counter.attach(engine)
            d = app.dispatcher

            async def press_first(ctx: Context) -> object:
                return await d.press(ctx, f"sv:{sids[0]}")

            async def press(ctx: Context) -> object:
                return await d.press(ctx, f"sv:{sids[1]}")

            async def reply(ctx: Context) -> object:
                return await d.on_reply(ctx, f"sg:{sids[2]}", "+1")

            async def press_before(ctx: Context) -> object:
                return await d.press(ctx, f"sv:{sids[3]}")

            async def press_first_before(ctx: Context) -> object:
                return await d.press(ctx, f"sv:{sids[4]}")

            plan = [
                ("new members press", press_first, sids[0], members, "new"),
                ("members press", press, sids[1], members, "known"),
                ("members press again", press, sids[1], members, "known"),
                ("members reply +1", reply, sids[2], members, "reply"),
            ]
            rounds = []
            for name, act, sid, n, receipts in plan:
                rounds.append(
                    await _round(app, counter, name, n, concurrency, act, cid, sid, receipts)
                )
            posting: dict[str, Any] | None = None
            if model is not None:

                async def press_posting(ctx: Context) -> object:
                    return await d.press(ctx, f"sv:{sids[5]}")

                stop = asyncio.Event()
                poster = asyncio.create_task(_poster(app, author, stop))
                posting = await _round(
                    app,
                    counter,
                    "members press, posts",
                    members,
                    concurrency,
                    press_posting,
                    cid,
                    sids[5],
                    "posting",
                )
                stop.set()
                posting["posted"] = await poster
                posting["posted_per_s"] = round(posting["posted"] / posting["seconds"], 1)
            n = min(members, baseline_members)
            # The first round's baseline: other new members, each created in a transaction of
            # its own (the rest of the path as in the first round).
            app.identity_cache.batch_new = False
            before_new = await _round(
                app,
                counter,
                "before: new members press",
                n,
                concurrency,
                press_first_before,
                cid,
                sids[4],
                "new-before",
                users="late",
            )
            app.identity_cache.batch_new = True
            # The baseline: one transaction to resolve the member, one to vote, as before.
            s.batched = False
            app.identity_cache.enabled = False
            before = await _round(
                app,
                counter,
                "before: members press",
                n,
                concurrency,
                press_before,
                cid,
                sids[3],
                None,
            )
            s.batched = True
            app.identity_cache.enabled = True
            known, new = rounds[1], rounds[0]
            await app.close()
    return {
        "members": members,
        "concurrency": concurrency,
        "database": "PostgreSQL" if postgres else "SQLite",
        "load_avg": round(os.getloadavg()[0], 2),
        "rounds": rounds,
        "baseline": before,
        "baseline_new": before_new,
        "speedup": round(known["per_s"] / before["per_s"], 1) if before["per_s"] else None,
        # The first round against its baseline: presses per second and CPU time per press.
        "new_members": {
            "per_s": new["per_s"],
            "cpu_ms": new["cpu_ms"],
            "baseline_per_s": before_new["per_s"],
            "baseline_cpu_ms": before_new["cpu_ms"],
            "speedup": round(new["per_s"] / before_new["per_s"], 1)
            if before_new["per_s"]
            else None,
            "cpu_ratio": round(before_new["cpu_ms"] / new["cpu_ms"], 1) if new["cpu_ms"] else None,
            "load_avg": new["load_avg"],
        },
        "votes_ok": all(
            r["votes"] == r["presses"]
            for r in [*rounds, before_new, before, *([posting] if posting else [])]
        ),
        "model": model,
        "posting": posting,
    }


def summary(result: dict[str, Any]) -> str:
    ok = "ok" if result["votes_ok"] else "MISMATCH"
    lines = [
        f'fanloop bench votes: {result["members"]} distinct members vote "+1", '
        f"{result['concurrency']} at a time, through the core alone ({result['database']})"
    ]
    for r in [*result["rounds"], result["baseline_new"], result["baseline"]]:
        lines.append(
            f"  {r['round']:<26} {r['per_s']:>7.0f} presses/s; p50 {r['p50_ms']:.1f} ms, "
            f"p99 {r['p99_ms']:.1f} ms; per press {r['cpu_ms']:.2f} ms CPU, "
            f"{r['transactions']:g} transactions "
            f"({r['writing']:g} writing), {r['statements']:g} statements; votes {r['votes']}; "
            f"load {r['load_avg']:.1f}"
        )
    new = result["new_members"]
    lines.append(
        f"  new members: {new['speedup']}x the presses/s and 1/{new['cpu_ratio']} the CPU per "
        f"press of one transaction each ({result['baseline_new']['presses']} presses, same run)"
    )
    lines.append(
        f"  known members: {result['speedup']}x the presses/s of the path before "
        f"({result['baseline']['presses']} presses, same run)"
    )
    posting = result["posting"]
    if posting is not None:
        known = result["rounds"][1]
        lines.append(
            f"  while {posting['posted']} suggestions were posted ({posting['posted_per_s']:g}/s, "
            f"{result['model']}): {posting['per_s']:.0f} presses/s, p99 "
            f"{posting['p99_ms']:.1f} ms; without: {known['per_s']:.0f} presses/s, p99 "
            f"{known['p99_ms']:.1f} ms"
        )
    lines.append(f"  votes counted: {ok}")
    return "\n".join(lines)


def bench(args: argparse.Namespace) -> int:
    if args.members < 1 or args.concurrency < 1 or args.baseline_members < 1:
        print("fanloop bench votes: sizes must be positive", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    result = runtime.run(
        run(args.members, args.concurrency, args.db, args.baseline_members, args.model)
    )
    print(json.dumps(result) if args.json else summary(result))
    return 0 if result["votes_ok"] else 1


def register_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("votes", help="the core '+1' path alone: presses/s, transactions per press")
    p.add_argument("--members", type=int, default=5000, help="distinct members voting")
    p.add_argument("--concurrency", type=int, default=500, help="presses handled at once (a burst)")
    p.add_argument(
        "--baseline-members",
        type=int,
        default=500,
        help="presses of each same-run baseline (the path before batching and the cache; new "
        "members created one transaction each)",
    )
    p.add_argument(
        "--db", help="database URL (default: a temporary SQLite file; PostgreSQL: a new schema)"
    )
    p.add_argument(
        "--model",
        help="a dedup_model: one more round of presses while suggestions are posted (each "
        "embedded off the event loop), beside the round without",
    )
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=bench)
