"""`fanloop bench telegram`: N distinct members press "+1" on one suggestion, through the real
Telegram adapter (long polling against the local Bot API server, run in a process of its own so
that it does not share the bot's CPU; `--server inline` runs it in the bench's event loop, for
comparison), and the same presses through the core alone as a baseline. Prints updates per
second, time to answer each callback (p50/p99/max, from the moment the server hands the update
out to the bot's answer), and the votes counted, which must equal the members."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from bot.core import runtime
from bot.core.app import App
from bot.core.clock import SystemClock
from bot.core.commands import Role
from config.settings import FanloopSettings
from devtools.scratch import ScratchDb
from devtools.servers.process import WHERE, local_server

GROUP_ID = -1007000000
FIRST_MEMBER = 500_000_000
TOKEN = "7000001:BENCH-token"
FIRST_UPDATE = 1_000_000  # after the update that posts the suggestion
ANSWER_WAIT = 60.0  # seconds for one wave's callback queries to be answered


@contextlib.asynccontextmanager
async def _app(db: str | None) -> AsyncIterator[tuple[App, str]]:
    """A fresh database with the default cogs, and a temporary folder: a SQLite file (the
    default deployment), or a schema of its own in the PostgreSQL database `db`, removed after.
    The App is closed when the block ends."""
    with tempfile.TemporaryDirectory() as tmp:
        async with ScratchDb(db) as engine:
            settings = FanloopSettings.model_validate({"data_dir": tmp})
            app = await App.create(settings, SystemClock(), engine=engine, migrate=False)
            try:
                yield app, tmp
            finally:
                await app.close()


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def _votes(app: App) -> int:
    from cogs.suggestions.service import SuggestionService

    row = await app.services.get(SuggestionService).get(1, 1)
    return row.votes - 1  # the author's own vote comes with the suggestion


# Telegram shows "query is too old" once a callback query waits longer than this for its answer
# (its documented limit is loose; 15 s is where answers start failing in practice): an answer
# after it is `late`.
TELEGRAM_GIVES_UP_MS = 15_000.0


class StubCore:
    """`--adapter-only`: the adapter with the core's part (who the member is, the vote) replaced
    by dictionaries, so the figure is the adapter's own cost: getUpdates, the inbox, dispatch,
    python-telegram-bot's handling, the answer."""

    def __init__(self, adapter: Any, app: App) -> None:
        from bot.core.reply import Reply

        self.voters: set[int] = set()
        self._ctx: Any = None
        who, reply = adapter.who, Reply(text="👍", ephemeral=True)

        async def context(chat: Any, user: Any) -> Any:
            self.voters.add(user.id)
            if self._ctx is None:
                self._ctx = await who.__class__.context(who, chat, user)
            return self._ctx

        async def press(ctx: Any, data: str) -> Any:
            return reply

        adapter.who.context = context
        adapter.edits.changed = lambda *a, **k: None
        app.dispatcher.press = press  # type: ignore[method-assign,assignment]


async def run_adapter(
    updates: int,
    concurrency: int,
    burst: int,
    server: str = "process",
    *,
    scenario: str = "vote",
    quota: int = 1000,
    waitlist: int = 500,
    adapter_only: bool = False,
    db: str | None = None,
) -> dict[str, Any]:
    """`vote`: N members press "+1" on one suggestion, `burst` updates at a time (each wave is
    answered before the next is sent). `claim`: N reservers press "Claim now" on a flash drop
    at once; latency counts from the press."""
    from telegram import Update

    from bot.adapters.telegram import TelegramAdapter
    from bot.adapters.telegram.lifecycle import run
    from devtools.bench.telegram_claims import claim_outcome, seed_claim_world
    from devtools.servers.telegram_api import BOT_USER, callback_update, group, message_update, user

    async with _app(db) as (app, tmp):
        async with (
            local_server("telegram", server) as port,
            aiohttp.ClientSession(f"http://127.0.0.1:{port}") as control,
        ):
            base_url = f"http://127.0.0.1:{port}/bot"
            adapter = TelegramAdapter(app, TOKEN, base_url=base_url, concurrency=concurrency)
            chat = group(GROUP_ID, "Bench fans")
            drop_id = 0
            if scenario == "claim":
                drop_id = await seed_claim_world(
                    app,
                    group_id=GROUP_ID,
                    first_member=FIRST_MEMBER,
                    pressers=updates,
                    quota=quota,
                    waitlist=waitlist,
                )
                card: dict[str, Any] = {
                    "message_id": 1, "date": 0, "chat": chat, "from": BOT_USER,
                    "text": "Flash bench",
                }  # fmt: skip
                data = f"dc:{drop_id}"
            else:
                author = user(FIRST_MEMBER - 1, "Author")
                async with adapter.application:
                    await adapter.process(
                        Update.de_json(
                            message_update(chat, author, '/suggest "Dark mode" "bench"'),
                            adapter.bot,
                        )
                    )
                async with control.get("/_fake/sent", params={"chat_id": GROUP_ID}) as r:
                    card = (await r.json())[-1]
                data = "sv:1"
            presses = [
                callback_update(
                    user(FIRST_MEMBER + i, f"Fan {i}"), card, data, update_id=FIRST_UPDATE + i
                )
                for i in range(updates)
            ]
            stub = StubCore(adapter, app) if adapter_only else None
            settings = FanloopSettings.model_validate(
                {"data_dir": tmp, "telegram_token": TOKEN, "telegram_base_url": base_url}
            )
            stop = asyncio.Event()
            # Encoded before the clock starts: the bench's own JSON work is no part of the
            # bot's CPU time (the real Telegram runs elsewhere).
            waves = [presses[i : i + burst] for i in range(0, updates, burst)]
            pushes = [_json({"updates": wave}) for wave in waves]
            waits = [_json(_answered_body(wave, ANSWER_WAIT)) for wave in waves]
            async with control.get("/_fake/times") as r:
                server_cpu = (await r.json())["cpu_s"]
            load_before = os.getloadavg()[0]
            task = asyncio.create_task(run(adapter, settings, stop, poll_timeout=1))
            started, cpu = time.perf_counter(), time.process_time()
            if scenario == "claim":  # everyone at once, then wait for every answer
                for push in pushes:
                    await _post(control, "/_fake/updates", push)
                await _answered(control, _json(_answered_body(presses, ANSWER_WAIT + updates / 50)))
                answered_in = time.perf_counter() - started
                await _all_handled(adapter, presses)  # answered "received" is not done
            else:
                for push, wait in zip(pushes, waits, strict=True):
                    await _post(control, "/_fake/updates", push)
                    await _answered(control, wait)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
            load_after = os.getloadavg()[0]
            if scenario != "claim":
                answered_in = elapsed
            stop.set()
            await task
            async with control.get("/_fake/times") as r:
                times = await r.json()
            server_cpu = times["cpu_s"] - server_cpu
        start_key = "pushed_at" if scenario == "claim" else "delivered_at"
        latencies = [
            (
                times["answered_at"][str(u["callback_query"]["id"])]
                - times[start_key][str(u["update_id"])]
            )
            * 1000
            for u in presses
            if str(u["callback_query"]["id"]) in times["answered_at"]
        ]
        fetch = [
            (times["delivered_at"][str(u["update_id"])] - times["pushed_at"][str(u["update_id"])])
            * 1000
            for u in presses
            if str(u["update_id"]) in times["delivered_at"]
        ]
        result: dict[str, Any] = {
            "updates": updates,
            "seconds": round(answered_in, 3),
            "per_s": round(updates / answered_in, 1),
            "seconds_all_handled": round(elapsed, 3),
            "answered_busy": adapter.busy_answers,
            "p50_ms": round(_percentile(latencies, 0.50), 2),
            "p99_ms": round(_percentile(latencies, 0.99), 2),
            "max_ms": round(max(latencies, default=0.0), 2),
            "mean_ms": round(statistics.fmean(latencies), 2) if latencies else 0.0,
            "answered": len(latencies),
            "late": sum(1 for ms in latencies if ms > TELEGRAM_GIVES_UP_MS),
            "fetched_p99_ms": round(_percentile(fetch, 0.99), 2),
            # CPU of the bot's process for the burst (its event loop and the database's
            # threads; with the bench's own driving, which is small): a figure that depends
            # less on the machine's load than the rate does. Then the server's, and the
            # machine's load average (1 minute) before and after.
            "bot_cpu_s": round(cpu, 2),
            "bot_cpu_ms_per_update": round(cpu * 1000 / updates, 3),
            "server_cpu_s": round(server_cpu, 2),
            "load_avg": [round(load_before, 2), round(load_after, 2)],
        }
        if stub is not None:
            result["votes"] = len(stub.voters)
        elif scenario == "claim":
            outcome = await claim_outcome(app.engine, drop_id)
            result.update(outcome)
            result["oversold"] = max(0, outcome["units_taken"] - quota)
        else:
            result["votes"] = await _votes(app)
    return result


async def _all_handled(adapter: Any, presses: list[dict[str, Any]]) -> None:
    """Wait until every press is handled (its effect done, marked in the inbox)."""
    from sqlalchemy import func, select

    from storage.platform.schema import telegram_inbox

    ids = [int(u["update_id"]) for u in presses]
    handled = (
        select(func.count())
        .select_from(telegram_inbox)
        .where(telegram_inbox.c.update_id.in_(ids), telegram_inbox.c.handled_at.is_not(None))
    )
    while True:
        await adapter.idle()
        await adapter.inbox.close()  # writes the handled marks waiting
        async with adapter.app.engine.connect() as conn:
            if (await conn.execute(handled)).scalar_one() == len(ids):
                return
        await asyncio.sleep(0.05)


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _answered_body(updates: list[dict[str, Any]], within: float) -> dict[str, Any]:
    return {"query_ids": [u["callback_query"]["id"] for u in updates], "within": within}


async def _post(control: aiohttp.ClientSession, path: str, body: bytes) -> None:
    headers = {"Content-Type": "application/json"}
    async with control.post(path, data=body, headers=headers) as r:
        r.raise_for_status()


async def _answered(control: aiohttp.ClientSession, body: bytes) -> None:
    """Wait until the server has every query of `body` (`_answered_body`, encoded) answered."""
    headers = {"Content-Type": "application/json"}
    async with control.post("/_fake/answered", data=body, headers=headers) as r:
        if r.status != 200:
            missing = (await r.json())["missing"]
            raise TimeoutError(f"{missing} callback queries were not answered")


async def run_core(updates: int, concurrency: int, db: str | None = None) -> dict[str, Any]:
    """Baseline: the same presses straight into the dispatcher, no Telegram in between."""
    async with _app(db) as (app, _):
        author = await app.context(
            platform="bench",
            space_id="g",
            space_name="Bench fans",
            user_id="author",
            display_name="Author",
            role=Role.FAN,
        )
        await app.dispatcher.run_line(author, '/suggest "Dark mode" "bench"')
        gate = asyncio.Semaphore(concurrency)
        latencies: list[float] = []

        async def press(i: int) -> None:
            async with gate:
                t0 = time.perf_counter()
                ctx = await app.context(
                    platform="bench",
                    space_id="g",
                    space_name="Bench fans",
                    user_id=str(FIRST_MEMBER + i),
                    display_name=f"Fan {i}",
                    role=Role.FAN,
                )
                await app.dispatcher.press(ctx, "sv:1")
                latencies.append((time.perf_counter() - t0) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(press(i) for i in range(updates)))
        elapsed = time.perf_counter() - started
        votes = await _votes(app)
    return {
        "updates": updates,
        "seconds": round(elapsed, 3),
        "per_s": round(updates / elapsed, 1),
        "p50_ms": round(_percentile(latencies, 0.50), 2),
        "p99_ms": round(_percentile(latencies, 0.99), 2),
        "max_ms": round(max(latencies), 2),
        "votes": votes,
    }


def summary(result: dict[str, Any]) -> str:
    tg, core = result["telegram"], result["baseline_core"]
    ok = "ok" if result["votes_ok"] else "MISMATCH"
    return "\n".join(
        [
            f"telegram adapter: {tg['updates']} '+1' presses by distinct members, "
            f"{result['concurrency']} at a time, bursts of {result['burst']}, the local server "
            f"{'in its own process' if result['server'] == 'process' else 'inline'}",
            f"  {tg['per_s']:.0f} updates/s ({tg['seconds']:.1f} s); callback answered in "
            f"p50 {tg['p50_ms']:.1f} ms, p99 {tg['p99_ms']:.1f} ms, max {tg['max_ms']:.1f} ms",
            f"  votes counted: {tg['votes']} of {tg['updates']} members ({ok}); "
            f"callbacks answered: {tg['answered']}",
            f"baseline, the core alone (no Telegram, same concurrency): {core['per_s']:.0f} "
            f"presses/s; each press took p50 {core['p50_ms']:.1f} ms, p99 {core['p99_ms']:.1f} ms; "
            f"votes {core['votes']}",
            f"adapter share of the time: {result['adapter_overhead_pct']:.0f}%",
        ]
    )


# The adapter run's figures repeated at the top of the JSON.
SHOWN = (
    "updates",
    "per_s",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "votes",
    "bot_cpu_ms_per_update",
    "load_avg",
)


def bench(args: argparse.Namespace) -> int:
    if args.updates < 1 or args.concurrency < 1 or args.burst < 1:
        print("fanloop bench telegram: sizes must be positive", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    if args.scenario == "claim":
        return _bench_claim(args)
    tg = runtime.run(
        run_adapter(
            args.updates,
            args.concurrency,
            args.burst,
            args.server,
            adapter_only=args.adapter_only,
            db=args.db,
        )
    )
    if args.adapter_only:
        ok = tg["votes"] == args.updates and tg["answered"] == args.updates
        keys = ("updates", "per_s", "p50_ms", "p99_ms", "max_ms", "answered", "late")
        out = {**{k: tg[k] for k in keys}, "adapter_only": True, "ok": ok, "telegram": tg}
        print(json.dumps(out) if args.json else _adapter_only_summary(tg, ok))
        return 0 if ok else 1
    core = runtime.run(run_core(args.updates, args.concurrency, args.db))
    result = {
        **{k: tg[k] for k in SHOWN},
        "concurrency": args.concurrency,
        "burst": args.burst,
        "server": args.server,
        "votes_ok": tg["votes"] == args.updates and tg["answered"] == args.updates,
        "telegram": tg,
        "baseline_core": core,
        "adapter_overhead_pct": round(100 * (1 - tg["per_s"] / core["per_s"]), 1)
        if core["per_s"]
        else 0.0,
    }
    print(json.dumps(result) if args.json else summary(result))
    return 0 if result["votes_ok"] else 1


def _adapter_only_summary(tg: dict[str, Any], ok: bool) -> str:
    return (
        f"telegram adapter alone (the core replaced by dictionaries): {tg['updates']} presses, "
        f"{tg['per_s']:.0f} updates/s; answered in p50 {tg['p50_ms']:.1f} ms, "
        f"p99 {tg['p99_ms']:.1f} ms; {'ok' if ok else 'MISSING ANSWERS'}"
    )


def _bench_claim(args: argparse.Namespace) -> int:
    tg = runtime.run(
        run_adapter(
            args.updates,
            args.concurrency,
            args.burst,
            args.server,
            scenario="claim",
            quota=args.quota,
            waitlist=args.waitlist,
            db=args.db,
        )
    )
    result = {
        "pressers": tg["updates"],
        "quota": args.quota,
        "winners": tg["winners"],
        "oversold": tg["oversold"],
        "answered": tg["answered"],
        "late": tg["late"],
        "per_s": tg["per_s"],
        "p50_ms": tg["p50_ms"],
        "p99_ms": tg["p99_ms"],
        "max_ms": tg["max_ms"],
        "late_after_ms": TELEGRAM_GIVES_UP_MS,
        "answered_busy": tg["answered_busy"],
        "seconds_all_handled": tg["seconds_all_handled"],
        "fetched_p99_ms": tg["fetched_p99_ms"],
        "server": args.server,
        "concurrency": args.concurrency,
    }
    ok = (
        result["winners"] == min(args.quota, args.updates)
        and result["oversold"] == 0
        and result["answered"] == args.updates
    )
    result["ok"] = ok
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"telegram claim burst: {result['pressers']} reservers press 'Claim now' at once, "
            f"quota {args.quota}\n"
            f"  winners {result['winners']}, oversold {result['oversold']}, answered "
            f"{result['answered']}, late {result['late']} (answered after "
            f"{TELEGRAM_GIVES_UP_MS / 1000:.0f} s)\n"
            f"  {result['per_s']:.0f} presses/s; answered p50 {result['p50_ms']:.1f} ms, "
            f"p99 {result['p99_ms']:.1f} ms from the press ({'ok' if ok else 'NOT OK'})"
        )
    return 0 if ok else 1


def register_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("telegram", help="'+1' callback presses through the Telegram adapter")
    p.add_argument("--updates", type=int, default=10_000, help="members pressing '+1' (one each)")
    p.add_argument(
        "--concurrency",
        type=int,
        default=256,
        help="updates handled at once (the adapter's default)",
    )
    p.add_argument(
        "--burst", type=int, default=100, help="updates handed out per wave (getUpdates gives 100)"
    )
    p.add_argument(
        "--server",
        choices=WHERE,
        default="process",
        help="run the local Bot API server in its own process (default) or inline, in the "
        "bench's event loop",
    )
    p.add_argument(
        "--scenario",
        choices=("vote", "claim"),
        default="vote",
        help="vote: '+1' presses in bursts; claim: reservers press 'Claim now' on a flash drop",
    )
    p.add_argument("--quota", type=int, default=1000, help="claim: the drop's quota")
    p.add_argument("--waitlist", type=int, default=500, help="claim: the waiting list's size")
    p.add_argument(
        "--adapter-only",
        action="store_true",
        help="vote: the core's part replaced by dictionaries (the adapter's own cost)",
    )
    p.add_argument(
        "--db",
        help="a PostgreSQL database URL: each run gets a schema of its own there, dropped after "
        "(default: a temporary SQLite file)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=bench)
