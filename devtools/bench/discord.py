"""`fanloop bench discord`: a burst of "+1" clicks by distinct members on one suggestion, through
the real Discord adapter against the local Discord server (`devtools.servers.discord_api`, run in a
separate process so that it does not share the bot's CPU; `--server inline` runs it in the bench's
own event loop instead, for comparison), and the same presses through the core alone as a
baseline.

It prints interactions per second (from the first click sent to the last answer received),
the acknowledgement latency (from the moment the server sends a click over the gateway to the
moment the bot's response, or its deferral, reaches the server) as p50/p99/max, how many were
deferred and how many missed Discord's 3-second deadline, the votes counted, which must
equal the members who clicked, and the edits of the card that brought its button to the final
count.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bot.core import runtime
from bot.core.app import App
from bot.core.clock import SystemClock
from bot.core.commands import Role
from config.settings import FanloopSettings
from devtools.scratch import ScratchDb
from devtools.servers.process import WHERE, local_server

FIRST_CLICKER = 1300000000000000000
FIRST_BASELINE_MEMBER = 1310000000000000000
WAIT_LIMIT = 900.0  # seconds for the whole burst to be answered
CARD_WAIT = 30.0  # seconds for the card's button to show the final count after that


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@contextlib.asynccontextmanager
async def _app(tmp: Path, db: str | None, **discord: Any) -> AsyncIterator[App]:
    """An App on a fresh database: a SQLite file, or a schema of its own in the PostgreSQL
    database `db` (dropped after, so runs do not see each other's members). Closed on exit."""
    async with ScratchDb(db) as engine:
        settings = FanloopSettings(data_dir=tmp, log_level="WARNING", **discord)
        app = await App.create(settings, SystemClock(), engine=engine, migrate=False)
        try:
            yield app
        finally:
            await app.close()


async def _suggestion(app: App, title: str) -> tuple[int, int]:
    """A suggestion in the bench server's community: (community id, suggestion id)."""
    from cogs.suggestions.service import SuggestionService
    from devtools.servers.discord_api import GUILD_ID

    ctx = await app.context(
        platform="discord",
        space_id=str(GUILD_ID),
        space_name="Fan Club",
        user_id="1",
        display_name="Author",
        role=Role.OWNER,
    )
    sub = await app.services.get(SuggestionService).submit(
        ctx.community.id, ctx.member.account_id, title, "", None
    )
    assert sub.posted is not None
    return ctx.community.id, sub.posted.id


async def seed_claim_drop(app: App, cid: int, pressers: int, quota: int, first_user: int) -> int:
    """A flash drop of `quota` in community `cid`, claimable now, that the Discord users
    `first_user`, `first_user + 1`, … (`pressers` of them, known members) all reserved; its id."""
    from sqlalchemy import insert, select

    from cogs.drops import lottery
    from storage.core.schema import accounts, identities, members
    from storage.drops.schema import drops, reservations

    now = app.clock.now()
    before = now - timedelta(days=1)
    seed_hex = lottery.new_seed()
    async with app.engine.begin() as conn:
        owner = (await conn.execute(select(accounts.c.id).limit(1))).scalar_one()
        drop_id = (
            await conn.execute(
                insert(drops).values(
                    community_id=cid, created_by=owner, name="Redmi Note", mode="flash",
                    quota=quota, per_account=1, waitlist=quota, opens_at=before,
                    closes_at=now - timedelta(minutes=1), drop_at=now - timedelta(minutes=1),
                    confirm_seconds=86400, seed=seed_hex,
                    commitment=lottery.commitment(seed_hex), created_at=before,
                    updated_at=before, opened_at=before, started_at=now - timedelta(minutes=1),
                )
            )
        ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
    for start in range(0, pressers, 5000):
        n = min(5000, pressers - start)
        async with app.engine.begin() as conn:
            ids = [
                int(r[0])
                for r in (
                    await conn.execute(
                        insert(accounts).returning(accounts.c.id),
                        [{"created_at": before} for _ in range(n)],
                    )
                ).all()
            ]
            await conn.execute(
                insert(identities),
                [
                    {
                        "platform": "discord",
                        "platform_user_id": str(first_user + start + i),
                        "account_id": account,
                        "display_name": f"fan{start + i}",
                        "created_at": before,
                    }
                    for i, account in enumerate(ids)
                ],
            )
            await conn.execute(
                insert(members),
                [
                    {"community_id": cid, "account_id": a, "joined_at": before, "last_seen_at": now}
                    for a in ids
                ],
            )
            await conn.execute(
                insert(reservations),
                [{"drop_id": drop_id, "account_id": a, "reserved_at": before} for a in ids],
            )
    return int(drop_id)


async def claim_outcome(app: App, drop_id: int, quota: int) -> dict[str, int]:
    """Winners, oversold (wins beyond the quota, or a member winning twice), waiting list."""
    from sqlalchemy import func, select

    from storage.drops.schema import waitlist, wins

    async with app.engine.connect() as conn:
        won = (
            await conn.execute(select(func.count()).where(wins.c.drop_id == drop_id))
        ).scalar_one()
        winners = (
            await conn.execute(
                select(func.count(func.distinct(wins.c.account_id))).where(
                    wins.c.drop_id == drop_id
                )
            )
        ).scalar_one()
        waiting = (
            await conn.execute(select(func.count()).where(waitlist.c.drop_id == drop_id))
        ).scalar_one()
    return {
        "winners": int(winners),
        "oversold": max(0, int(won) - quota) + (int(won) - int(winners)),
        "waitlisted": int(waiting),
    }


async def _votes(app: App, cid: int, sid: int) -> int:
    from cogs.suggestions.service import SuggestionService

    row = await app.services.get(SuggestionService).get(cid, sid)
    return row.votes - 1  # the author's own vote comes with the suggestion


def _stub_work() -> None:
    """`--work stub`: a press builds discord.py's Interaction (as the work does) and answers
    a fixed private reply without touching the database, so the figures are the adapter's
    alone (acknowledgement, parsing, the follow-up), whatever the core costs."""
    from bot.adapters.discord.interactions import Interactions
    from bot.adapters.discord.respond import Incoming, Outcome
    from bot.core.reply import Reply

    def press(self: Interactions, incoming: Incoming, action: str) -> None:
        async def work() -> Outcome:
            assert incoming.interaction.message is not None
            return Outcome(Reply(text=f"Voted ({action}).", ephemeral=True))

        self.responder.admit(incoming, work, f"action {action}")

    Interactions.press = press  # type: ignore[method-assign]


async def _through_adapter(
    n: int,
    concurrency: int,
    rate: float,
    db: str | None,
    tmp: Path,
    server: str,
    work: str,
    scenario: str = "vote",
    quota: int = 1000,
) -> dict[str, Any]:
    if work == "stub":
        _stub_work()

    async with local_server("discord", server) as port:
        base = f"http://127.0.0.1:{port}"
        async with _app(
            tmp,
            db,
            discord_token="bench.discord.token",
            discord_api_base=f"{base}/api/v10",
            discord_gateway_url=f"ws://127.0.0.1:{port}/gateway",
        ) as app:
            status, votes, claimed = await _burst(
                app, base, n, concurrency, rate, work, scenario, quota
            )
    acks = [float(x) for x in status["ack_ms"]]
    elapsed = status["last_answered"] - status["first_sent"]
    cpu = float(status["bot_cpu_s"])
    if scenario == "claim":
        return {
            "scenario": "claim",
            "pressers": n,
            "quota": quota,
            **claimed,
            "answered": status["answered"],
            "acknowledged": status["acked"],
            "late": status["late"],
            "seconds": round(elapsed, 3),
            "per_s": round(status["answered"] / elapsed, 1) if elapsed > 0 else 0.0,
            "p50_ms": round(_percentile(acks, 0.50), 1),
            "p99_ms": round(_percentile(acks, 0.99), 1),
            "max_ms": round(max(acks, default=0.0), 1),
            "server_cpu_s": status.get("server_cpu_s"),
            "bot_cpu_s": round(cpu, 2),
        }
    return {
        "scenario": "vote",
        "interactions": n,
        "seconds": round(elapsed, 3),
        "per_s": round(status["answered"] / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(_percentile(acks, 0.50), 1),
        "p99_ms": round(_percentile(acks, 0.99), 1),
        "max_ms": round(max(acks, default=0.0), 1),
        "deferred": status["deferred"],
        "late": status["late"],
        "acknowledged": status["acked"],
        "answered": status["answered"],
        "votes": votes,
        "members": n,
        "card_edits": status["card_edits"],
        "card_label": (status["card_labels"] or [""])[0],
        "card_current": status["card_current"],
        "server_cpu_s": status.get("server_cpu_s"),
        # CPU the bot's process used for the burst (its event loop and the database's
        # threads), per interaction: a figure that depends less on the machine's load.
        "bot_cpu_s": round(cpu, 2),
        "bot_cpu_ms_per_interaction": round(cpu * 1000 / n, 3),
    }


async def _wait_connected(http: aiohttp.ClientSession, base: str, bot: asyncio.Task[None]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if bot.done():
            bot.result()
            raise RuntimeError("the Discord adapter stopped before connecting")
        async with http.get(f"{base}/_fake/burst") as r:
            if (await r.json())["identified"]:
                return
        await asyncio.sleep(0.05)
    raise RuntimeError("the Discord adapter did not connect to the local gateway")


async def _burst(
    app: App,
    base: str,
    n: int,
    concurrency: int,
    rate: float,
    work: str,
    scenario: str,
    quota: int,
) -> tuple[dict[str, Any], int, dict[str, Any]]:
    """The burst through the adapter on `app`: the server's status, the votes, the claims."""
    from bot.adapters.discord import Tuning, run

    cid, sid = await _suggestion(app, "Dark mode for the app")
    custom_id, label = f"sv:{sid}", _label(app, sid, 1)
    drop_id = 0
    if scenario == "claim":
        drop_id = await seed_claim_drop(app, cid, n, quota, FIRST_CLICKER)
        custom_id, label = f"dc:{drop_id}", app.translator("en", "drop.button.claim")
    stop = asyncio.Event()
    bot = asyncio.create_task(run(app, stop, Tuning(max_concurrency=concurrency)))
    try:
        async with aiohttp.ClientSession() as http:
            await _wait_connected(http, base, bot)
            async with http.post(
                f"{base}/_fake/burst",
                json={
                    "count": n,
                    "custom_id": custom_id,
                    "first_user_id": FIRST_CLICKER,
                    "rate": rate,
                    "label": label,
                },
            ) as r:
                r.raise_for_status()
            cpu = time.process_time()
            status = await _wait_answered(http, base, n)
            status["bot_cpu_s"] = time.process_time() - cpu
            votes = await _votes(app, cid, sid)
            claimed = await claim_outcome(app, drop_id, quota) if scenario == "claim" else {}
            if work != "stub" and scenario == "vote":
                status = await _wait_card(http, base, _label(app, sid, votes + 1), status)
            else:
                status = {**status, "card_current": True}
    finally:
        stop.set()
        await bot
    return status, votes, claimed


async def _wait_answered(http: aiohttp.ClientSession, base: str, n: int) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_LIMIT
    while True:
        async with http.get(f"{base}/_fake/burst") as r:
            status: dict[str, Any] = await r.json()
        if status["answered"] + status["late"] >= n or time.monotonic() > deadline:
            return status
        await asyncio.sleep(0.25)


def _label(app: App, sid: int, votes: int) -> str:
    return app.translator("en", "suggest.button.vote", id=sid, votes=votes)


async def _wait_card(
    http: aiohttp.ClientSession, base: str, label: str, status: dict[str, Any]
) -> dict[str, Any]:
    """Wait (at most CARD_WAIT seconds) until the card's button shows the final count."""
    deadline = time.monotonic() + CARD_WAIT
    while True:
        async with http.get(f"{base}/_fake/burst") as r:
            now: dict[str, Any] = await r.json()
        current = now["card_labels"] == [label]
        if current or time.monotonic() > deadline:
            return {**status, **{k: v for k, v in now.items() if k.startswith("card_")}} | {
                "card_current": current
            }
        await asyncio.sleep(0.1)


async def _through_core(n: int, concurrency: int, db: str | None, tmp: Path) -> dict[str, Any]:
    """The baseline: the same presses by new members, straight into the dispatcher."""
    from devtools.servers.discord_api import GUILD_ID

    async with _app(tmp, db) as app:
        cid, sid = await _suggestion(app, "Offline maps for hiking")
        gate = asyncio.Semaphore(concurrency)

        async def press(i: int) -> None:
            async with gate:
                ctx = await app.context(
                    platform="discord",
                    space_id=str(GUILD_ID),
                    space_name="Fan Club",
                    user_id=str(FIRST_BASELINE_MEMBER + i),
                    display_name=f"fan{i}",
                    role=Role.FAN,
                )
                await app.dispatcher.press(ctx, f"sv:{sid}")

        start = time.perf_counter()
        await asyncio.gather(*(press(i) for i in range(n)))
        elapsed = time.perf_counter() - start
        return {"per_s": round(n / elapsed, 1), "votes": await _votes(app, cid, sid)}


async def bench(
    n: int,
    concurrency: int,
    rate: float,
    db: str | None,
    server: str = "process",
    work: str = "real",
    baseline: bool = True,
    scenario: str = "vote",
    quota: int = 1000,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        adapter = await _through_adapter(
            n, concurrency, rate, db, Path(tmp), server, work, scenario, quota
        )
        if scenario == "claim":
            database = "PostgreSQL" if db and db.startswith("postgres") else "SQLite"
            return {**adapter, "database": database, "server": server}
        core = (
            await _through_core(n, concurrency, db, Path(tmp))
            if baseline and work == "real"
            else {"per_s": None, "votes": None}
        )
    database = "PostgreSQL" if db and db.startswith("postgres") else "SQLite"
    return {
        **adapter,
        "database": database,
        "concurrency": concurrency,
        "rate": rate or None,
        "server": server,
        "work": work,
        "baseline_per_s": core["per_s"],
        "baseline_votes": core["votes"],
    }


def report(r: dict[str, Any]) -> str:
    pace = f"{r['rate']:.0f} clicks/s" if r["rate"] else "all at once"
    return (
        f'fanloop bench discord: {r["interactions"]} "+1" clicks by distinct members on one '
        f"suggestion, {pace} ({r['database']}, {r['concurrency']} worked on at once, "
        f"the local server {'in its own process' if r['server'] == 'process' else 'inline'})\n"
        f"  through the Discord adapter: {r['answered']} answered in {r['seconds']:.1f} s "
        f"= {r['per_s']:.0f} interactions/s\n"
        f"  acknowledgement: p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, "
        f"max {r['max_ms']:.0f} ms; {r['deferred']} deferred, "
        f"{r['late']} expired before it (nothing done for those)\n"
        f"  votes counted: {r['votes']} for {r['members']} members "
        f"({r['acknowledged']} acknowledged)\n"
        f"  the card's button: {r['card_label']} after {r['card_edits']} edits"
        f"{'' if r['card_current'] else ' (not the final count)'}"
        + (
            f"\n  baseline, the same presses straight into the dispatcher: "
            f"{r['baseline_per_s']:.0f} /s ({r['baseline_votes']} votes)"
            if r["baseline_per_s"] is not None
            else ""
        )
    )


def claim_report(r: dict[str, Any]) -> str:
    return (
        f'fanloop bench discord --scenario claim: {r["pressers"]} reservers press "Claim now" '
        f"on a flash drop of {r['quota']} ({r['database']})\n"
        f"  {r['winners']} winners, {r['oversold']} oversold, {r['waitlisted']} on the waiting "
        f"list; {r['answered']} answered, {r['late']} expired before their acknowledgement\n"
        f"  {r['per_s']:.0f} answered/s; acknowledgement p50 {r['p50_ms']:.0f} ms, "
        f"p99 {r['p99_ms']:.0f} ms"
    )


def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    result = runtime.run(
        bench(
            args.interactions,
            args.concurrency,
            args.rate,
            args.db,
            args.server,
            args.work,
            not args.no_baseline,
            args.scenario,
            args.quota,
        )
    )
    if result["scenario"] == "claim":
        print(json.dumps(result) if args.json else claim_report(result))
        fine = result["winners"] == min(result["quota"], result["pressers"])
        fine = fine and not result["oversold"] and result["late"] == 0
        return 0 if fine and result["answered"] == result["pressers"] else 1
    if args.json:
        print(json.dumps(result))
    else:
        print(report(result))
    counted = result["work"] == "stub" or result["votes"] == result["members"]
    ok = counted and result["late"] == 0 and result["card_current"]
    return 0 if ok else 1


def register_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from bot.adapters.discord.respond import Tuning

    p = sub.add_parser(
        "discord", help="a burst of +1 clicks through the Discord adapter (local server)"
    )
    p.add_argument("--interactions", type=int, default=10000, help="distinct members clicking")
    p.add_argument(
        "--concurrency",
        type=int,
        default=Tuning.max_concurrency,
        help="interactions the adapter works on at once",
    )
    p.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="clicks per second (default: all at once, as fast as the server sends them)",
    )
    p.add_argument(
        "--db",
        help="a PostgreSQL database URL: each run gets a schema of its own there, dropped after "
        "(default: a temporary SQLite file)",
    )
    p.add_argument(
        "--server",
        choices=WHERE,
        default="process",
        help="run the local Discord server in its own process (default) or inline, in the "
        "bench's event loop",
    )
    p.add_argument(
        "--work",
        choices=("real", "stub"),
        default="real",
        help="stub: presses answer a fixed reply without the database (the adapter alone)",
    )
    p.add_argument("--no-baseline", action="store_true", help="skip the core-alone baseline")
    p.add_argument(
        "--scenario",
        choices=("vote", "claim"),
        default="vote",
        help='claim: every member reserved a flash drop and presses "Claim now"',
    )
    p.add_argument("--quota", type=int, default=1000, help="the flash drop's quota (claim)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=main)
