"""`fanloop bench cluster`: N real `fanloop run` processes on one PostgreSQL serve one Telegram
bot in webhook mode, behind a round-robin front (devtools/servers/webhook_front.py, in the
bench's process), against the local Bot API server in a process of its own. R reservers of a
flash drop with quota Q press "Claim now" at once, spread over the processes; meanwhile the
scheduler opens the four-grid report of a release that is due, and closes it once brought to its
end. `--kill` SIGKILLs one process when a third of the presses are answered and restarts it.

Printed per run: presses answered per second (from the first press to the last answer) and the
answer's p50/p99 from the press; winners against the quota, units oversold, members who won
twice, announcements lost (a presser told they got it with no win row of that code, or a win row
whose code message never reached its winner), presses answered, reports opened and closed; and
the cost per press: CPU time of the PostgreSQL backends serving the bench's role, rows they
wrote, CPU time of the bot processes. With N > 1 a one-process run of the same size comes
first, as the same run's baseline (`--no-baseline` leaves it out).

The database given by `--db` gets a role and a schema of the bench's own, dropped at the end (the
URL's role must be allowed to create roles).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core import runtime
from devtools.cluster import (
    Node,
    World,
    claim_outcome,
    claim_presses,
    close_report_soon,
    drop_card,
    missing_code_messages,
    private_database,
    report_counts,
    seed_world,
    units_taken,
    wins_by_user,
)
from devtools.servers.process import local_server
from devtools.servers.webhook_front import WebhookFront
from storage.engine import create_engine

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/test"
CHUNK = 2_000  # presses handed to the server per request
WAIT = 600.0  # seconds: only against a hang
TICK_SECONDS = 1.0  # the processes' scheduler tick, so the report opens and closes in the run
CLOCK_TICKS = 100
STALLED = 60.0  # seconds without a new answer: the rest are lost
# Telegram shows "query is too old" once a callback query waits longer than this for its answer.
TELEGRAM_GIVES_UP_MS = 15_000.0  # os.sysconf("SC_CLK_TCK") on Linux


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _free_ports(count: int) -> list[int]:
    import socket

    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


async def _backend_ticks(engine: AsyncEngine, role: str) -> dict[int, int]:
    """CPU ticks (user + system) so far of each PostgreSQL backend logged in as `role` (the
    server runs on this machine: its processes' /proc entries are readable)."""
    async with engine.connect() as conn:
        pids = (
            await conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE usename = :role"), {"role": role}
            )
        ).scalars()
        return await asyncio.to_thread(_cpu_ticks, [int(p) for p in pids])


def _pids(nodes: list[Node]) -> list[int]:
    return [n.proc.pid for n in nodes if n.proc is not None and n.alive]


def _cpu_ticks(pids: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the backend ended meanwhile
        out[pid] = int(fields[11]) + int(fields[12])  # utime, stime
    return out


async def _rows_written(engine: AsyncEngine) -> int:
    """Rows inserted, updated and deleted so far in the role's own schema."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        return int(
            (
                await conn.execute(
                    text(
                        "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
                        "FROM pg_stat_user_tables WHERE schemaname = current_schema()"
                    )
                )
            ).scalar_one()
        )


async def _missing(control: aiohttp.ClientSession, ids: list[str], within: float) -> int:
    """How many of `ids` are still unanswered after waiting up to `within` seconds."""
    async with control.post("/_fake/answered", json={"query_ids": ids, "within": within}) as r:
        return int((await r.json())["missing"])


async def _report(engine: AsyncEngine, world: World) -> None:
    """Wait for the scheduler to open the report, bring it to its end, wait for it to close."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not await close_report_soon(engine, world):
        if loop.time() > deadline:
            return
        await asyncio.sleep(0.2)
    while loop.time() < deadline:
        if (await report_counts(engine, world))[1]:
            return
        await asyncio.sleep(0.2)


async def run_cluster(
    processes: int, db: str, *, reservers: int, quota: int, kill: bool
) -> dict[str, Any]:
    """One run: a fresh schema, the processes, the burst; its figures."""
    async with private_database(db) as url:
        role = str(make_url(url).username)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            world = await seed_world(url, folder, pressers=reservers, quota=quota)
            engine = create_engine(url)
            admin = create_engine(db)
            async with (
                local_server("telegram") as port,
                aiohttp.ClientSession(f"http://127.0.0.1:{port}") as control,
            ):
                ports = _free_ports(processes)
                front = await WebhookFront([f"http://127.0.0.1:{p}/hook" for p in ports]).start()
                base_url = f"http://127.0.0.1:{port}/bot"
                nodes = [
                    Node(f"p{i}", folder, url, base_url, front.url, p, tick_seconds=TICK_SECONDS)
                    for i, p in enumerate(ports)
                ]
                try:
                    await asyncio.gather(*(n.start() for n in nodes))
                    return await _burst(
                        control, engine, admin, role, world, nodes, reservers, quota, kill
                    ) | {"processes": processes}
                finally:
                    await asyncio.gather(*(n.stop() for n in nodes))
                    await front.stop()
                    await engine.dispose()
                    await admin.dispose()


async def _burst(
    control: aiohttp.ClientSession,
    engine: AsyncEngine,
    admin: AsyncEngine,
    role: str,
    world: World,
    nodes: list[Node],
    reservers: int,
    quota: int,
    kill: bool,
) -> dict[str, Any]:
    presses = claim_presses(world, drop_card(), 0, reservers)
    ids = [str(p["callback_query"]["id"]) for p in presses]
    report = asyncio.create_task(_report(engine, world))
    ticks_before = await _backend_ticks(admin, role)
    bot_before = await asyncio.to_thread(_cpu_ticks, _pids(nodes))
    rows_before = await _rows_written(engine)
    started = time.perf_counter()
    for i in range(0, len(presses), CHUNK):
        async with control.post("/_fake/updates", json={"updates": presses[i : i + CHUNK]}) as r:
            r.raise_for_status()
    killed = False
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    progress = (reservers, loop.time())  # the last count missing, and since when
    while (missing := await _missing(control, ids, 0.5)) and loop.time() < deadline:
        if missing < progress[0]:
            progress = (missing, loop.time())
        elif loop.time() - progress[1] > STALLED:
            break  # answers that will not come: counted below
        if kill and not killed and missing <= reservers * 2 // 3:
            await nodes[-1].kill()
            killed = True
            await nodes[-1].start()
            progress = (missing, loop.time())
    answered_in = time.perf_counter() - started
    ticks_after = await _backend_ticks(admin, role)
    bot_after = await asyncio.to_thread(_cpu_ticks, _pids(nodes))
    bot_ticks = sum(t - bot_before.get(pid, 0) for pid, t in bot_after.items())
    rows = await _rows_written(engine) - rows_before
    ticks = sum(t - ticks_before.get(pid, 0) for pid, t in ticks_after.items())
    won = await wins_by_user(engine, world)
    messages: list[dict[str, Any]] = []
    while loop.time() < deadline:  # the code messages go out at Telegram's pace
        async with control.get("/_fake/sent") as r:
            messages = await r.json()
        if missing_code_messages(won, messages) == 0:
            break
        await asyncio.sleep(1.0)
    await asyncio.wait_for(report, WAIT)
    async with control.get("/_fake/times") as r:
        times = await r.json()
    async with control.get("/_fake/answers") as r:
        answers = await r.json()
    latencies = [
        (times["answered_at"][q] - times["pushed_at"][str(p["update_id"])]) * 1000
        for p, q in zip(presses, ids, strict=True)
        if q in times["answered_at"]
    ]
    opened, closed = await report_counts(engine, world)
    outcome = claim_outcome(
        presses, answers, won, messages, quota=quota, taken=await units_taken(engine, world)
    )
    return {
        "reservers": reservers,
        "seconds": round(answered_in, 3),
        "per_s": round(reservers / answered_in, 1),
        "p50_ms": round(_percentile(latencies, 0.50), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else 0.0,
        "late": sum(1 for ms in latencies if ms > TELEGRAM_GIVES_UP_MS),
        **outcome,
        "reports_opened": opened,
        "reports_closed": closed,
        "killed": killed,
        "db_cpu_ms_per_press": round(ticks * 1000 / CLOCK_TICKS / reservers, 3),
        "db_rows_per_press": round(rows / reservers, 2),
        "bot_cpu_ms_per_press": round(bot_ticks * 1000 / CLOCK_TICKS / reservers, 3),
    }


def _ok(row: dict[str, Any]) -> bool:
    return (
        row["winners"] == min(row["quota"], row["reservers"])
        and row["oversold"] == 0
        and row["duplicate_winners"] == 0
        and row["lost_announced"] == 0
        and row["answered"] == row["reservers"]
        and row["reports_opened"] == 1
        and row["reports_closed"] == 1
    )


def _line(row: dict[str, Any]) -> str:
    return (
        f"{row['processes']} process(es): {row['reservers']} reservers, quota {row['quota']}"
        f"{' (one killed and restarted)' if row['killed'] else ''}\n"
        f"  {row['per_s']:.0f} presses/s; answered p50 {row['p50_ms']:.0f} ms, p99 "
        f"{row['p99_ms']:.0f} ms from the press, {row['late']} after Telegram gives up (15 s)\n"
        f"  winners {row['winners']}, oversold {row['oversold']}, won twice "
        f"{row['duplicate_winners']}, announcements lost {row['lost_announced']}, answered "
        f"{row['answered']}, reports opened {row['reports_opened']} closed "
        f"{row['reports_closed']}\n"
        f"  PostgreSQL per press: {row['db_cpu_ms_per_press']:.2f} ms of CPU, "
        f"{row['db_rows_per_press']:.1f} rows written; the bot processes' CPU per press "
        f"{row['bot_cpu_ms_per_press']:.1f} ms ({'ok' if row['ok'] else 'NOT OK'})"
    )


def bench(args: argparse.Namespace) -> int:
    if args.processes < 1 or args.reservers < 1 or args.quota < 1:
        print("fanloop bench cluster: sizes must be positive", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    counts = [args.processes]
    if args.processes > 1 and not args.no_baseline:
        counts.insert(0, 1)
    ok = True
    for n in counts:
        row = runtime.run(
            run_cluster(
                n, args.db, reservers=args.reservers, quota=args.quota, kill=args.kill and n > 1
            )
        )
        row["ok"] = _ok(row)
        ok = ok and row["ok"]
        print(json.dumps(row) if args.json else _line(row), flush=True)
    return 0 if ok else 1


def register_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "cluster", help="'Claim now' presses through N fanloop run processes on one PostgreSQL"
    )
    p.add_argument("--processes", type=int, default=2, help="fanloop run processes")
    p.add_argument(
        "--db",
        default=DEFAULT_DB,
        help="a PostgreSQL database (the bench works in a role and schema of its own)",
    )
    p.add_argument("--reservers", type=int, default=1_000, help="members pressing 'Claim now'")
    p.add_argument("--quota", type=int, default=100, help="the drop's quota")
    p.add_argument(
        "--kill",
        action="store_true",
        help="SIGKILL one process when a third of the presses are answered, and restart it",
    )
    p.add_argument("--no-baseline", action="store_true", help="no one-process run first when N > 1")
    p.add_argument("--json", action="store_true", help="one JSON object per run, one a line")
    p.set_defaults(func=bench)
