"""Several `fanloop run` processes on one PostgreSQL, for `fanloop bench cluster` and the
cluster tests: a private database (a role whose search path is its own new schema, so that a
process given only a URL works in it), the processes (Telegram webhook workers behind a
round-robin front, optionally a Discord shard each), a world to act in (a Telegram group with a
flash drop every presser reserved, and a release whose four-grid report is due), and what a
claim burst left behind, counted from the database and the server's messages.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, literal_column, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from devtools.bench.telegram_claims import seed_claim_world
from storage.core.schema import identities
from storage.drops.schema import slots, wins
from storage.engine import create_engine
from storage.weekly.schema import fourgrid_reports as reports
from storage.weekly.schema import releases

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "7000001:CLUSTER-token"
GROUP_ID = -1009100000
FIRST_MEMBER = 710_000_000
FIRST_UPDATE = 2_000_000
START_WAIT = 120.0  # seconds for a process to listen (a loaded machine starts slowly)
# Each process's connection pool and overflow: four processes and the other users of a shared
# PostgreSQL (max_connections 100 by default) must fit.
POOL = (6, 6)
WON = "🎉"  # how every "you got it" answer begins, in every language


@asynccontextmanager
async def private_database(admin_url: str, prefix: str = "fanloop_cluster") -> AsyncIterator[str]:
    """The URL of a new role whose search path is its own new, empty schema in `admin_url`'s
    database, for processes that take only a database URL; both are dropped afterwards. Needs
    a role that may create roles."""
    name = f"{prefix}_{secrets.token_hex(5)}"
    password = secrets.token_hex(12)
    admin = create_engine(admin_url)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'"))
            await conn.execute(text(f"CREATE SCHEMA {name} AUTHORIZATION {name}"))
            await conn.execute(text(f"ALTER ROLE {name} SET search_path = {name}"))
        url = make_url(admin_url).set(username=name, password=password)
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            async with admin.begin() as conn:
                await conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
                await conn.execute(text(f"DROP ROLE IF EXISTS {name}"))
    finally:
        await admin.dispose()


async def until_listening(
    proc: asyncio.subprocess.Process, port: int, within: float, what: str
) -> None:
    """Wait until a started process accepts connections on `port` (127.0.0.1); RuntimeError
    when it ends first or does not listen within `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        if proc.returncode is not None:
            raise RuntimeError(f"{what} ended ({proc.returncode})")
        if loop.time() > deadline:
            raise RuntimeError(f"{what} never listened on port {port}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return


@dataclass(frozen=True)
class Discord:
    """A Discord shard for a process: the local server's addresses, the shard and the count."""

    api_base: str
    gateway_url: str
    token: str
    shard: int
    shards: int


class Node:
    """One `fanloop run` process: a Telegram webhook worker on `port` (and a Discord shard)."""

    def __init__(
        self,
        name: str,
        folder: Path,
        url: str,
        telegram_base_url: str,
        hook: str,
        port: int,
        *,
        discord: Discord | None = None,
        tick_seconds: float = 1.0,
        pool: tuple[int, int] = POOL,
    ) -> None:
        self.name = name
        self.port = port
        self.folder = folder / name
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FANLOOP_")}
        self.env.update(
            PYTHONPATH=str(ROOT),
            FANLOOP_DATA_DIR=str(self.folder / "data"),
            FANLOOP_DATABASE_URL=url,
            FANLOOP_TELEGRAM_TOKEN=TOKEN,
            FANLOOP_TELEGRAM_BASE_URL=telegram_base_url,
            FANLOOP_TELEGRAM_WEBHOOK_URL=hook,
            FANLOOP_TELEGRAM_WEBHOOK_PORT=str(port),
            FANLOOP_SCHEDULER_TICK_SECONDS=str(tick_seconds),
            FANLOOP_STOP_GRACE_SECONDS="5",
            FANLOOP_DATABASE_POOL_SIZE=str(pool[0]),
            FANLOOP_DATABASE_MAX_OVERFLOW=str(pool[1]),
        )
        if discord is not None:
            self.env.update(
                FANLOOP_DISCORD_TOKEN=discord.token,
                FANLOOP_DISCORD_API_BASE=discord.api_base,
                FANLOOP_DISCORD_GATEWAY_URL=discord.gateway_url,
                FANLOOP_DISCORD_SHARD_COUNT=str(discord.shards),
                FANLOOP_DISCORD_SHARD_IDS=str(discord.shard),
            )
        self.log = self.folder / "stderr.log"
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self) -> None:
        """Start it and wait until its webhook server listens."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", cwd=self.folder, env=self.env, stderr=err
            )
        await until_listening(self.proc, self.port, START_WAIT, f"{self.name} (see {self.log})")

    def pause(self) -> None:
        """Freeze it (SIGSTOP): whatever it holds stays unanswered until it is killed."""
        assert self.proc is not None and self.proc.returncode is None
        self.proc.send_signal(signal.SIGSTOP)

    async def kill(self) -> None:
        assert self.proc is not None and self.proc.returncode is None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 60)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        return self.proc.returncode


@dataclass(frozen=True)
class World:
    community_id: int
    drop_id: int
    release_id: int


async def seed_world(url: str, folder: Path, *, pressers: int, quota: int) -> World:
    """Migrate, then: the group's community, a flash drop open for claims that `pressers`
    members reserved, and a release made an hour ago whose four-grid report is due now (the
    report's day and time are this minute's, UTC), so the scheduler opens it at its first tick."""
    from bot.core.app import App
    from bot.core.clock import SystemClock
    from bot.core.commands import Role
    from cogs.weekly.service import WeeklyService
    from config.settings import FanloopSettings

    settings = FanloopSettings.model_validate({"data_dir": folder, "database_url": url})
    app = await App.create(settings, SystemClock())
    try:
        drop_id = await seed_claim_world(
            app,
            group_id=GROUP_ID,
            first_member=FIRST_MEMBER,
            pressers=pressers,
            quota=quota,
            waitlist=0,
        )
        owner = await app.context(
            platform="telegram",
            space_id=str(GROUP_ID),
            space_name="Bench fans",
            user_id=str(FIRST_MEMBER - 1),
            display_name="Owner",
            role=Role.OWNER,
        )
        cid = owner.community.id
        now = datetime.now(UTC)
        due = now.strftime("%a").casefold()
        for key, value in (("fourgrid_day", due), ("fourgrid_time", now.strftime("%H:%M"))):
            await app.community_settings.set(cid, key, value)
        weekly = app.services.get(WeeklyService)
        row = await weekly.record_release(
            cid, "v1", now.date(), ["Offline mode", "Dark mode"], owner.member.account_id
        )
        async with app.engine.begin() as conn:
            await conn.execute(
                update(releases)
                .where(releases.c.id == row.id)
                .values(created_at=now - timedelta(hours=1))
            )
        return World(cid, drop_id, row.id)
    finally:
        await app.close()


async def report_counts(engine: AsyncEngine, world: World) -> tuple[int, int]:
    """The release's four-grid reports: opened, and closed."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(reports.c.closed_at).where(reports.c.release_id == world.release_id)
            )
        ).all()
    return len(rows), sum(1 for r in rows if r[0] is not None)


async def close_report_soon(engine: AsyncEngine, world: World) -> bool:
    """Bring the open report's end to now (its configured duration is an hour at least), so
    that the scheduler closes it at its next tick; False while no report is open yet."""
    async with engine.begin() as conn:
        done = await conn.execute(
            update(reports)
            .where(reports.c.release_id == world.release_id, reports.c.closed_at.is_(None))
            .values(closes_at=literal_column("greatest(opened_at + interval '1 second', now())"))
        )
    return bool(done.rowcount)


def claim_presses(world: World, card: dict[str, Any], first: int, count: int) -> list[Any]:
    """`count` reservers press "Claim now" on the drop's card, from reserver `first`."""
    from devtools.servers.telegram_api import callback_update, user

    return [
        callback_update(
            user(FIRST_MEMBER + i, f"Fan {i}"),
            card,
            f"dc:{world.drop_id}",
            update_id=FIRST_UPDATE + i,
        )
        for i in range(first, first + count)
    ]


def drop_card(title: str = "Flash bench") -> dict[str, Any]:
    """The drop's card in the group, as a member's press refers to it."""
    from devtools.servers.telegram_api import BOT_USER, group

    chat = group(GROUP_ID, "Cluster fans")
    return {"message_id": 1, "date": 0, "chat": chat, "from": BOT_USER, "text": title}


async def wins_by_user(engine: AsyncEngine, world: World) -> dict[int, list[str]]:
    """Telegram user id -> the codes of the drop's win rows of that member."""
    query = (
        select(identities.c.platform_user_id, wins.c.code)
        .select_from(
            wins.join(
                identities,
                (identities.c.account_id == wins.c.account_id)
                & (identities.c.platform == "telegram"),
            )
        )
        .where(wins.c.drop_id == world.drop_id)
    )
    out: dict[int, list[str]] = {}
    async with engine.connect() as conn:
        for uid, code in (await conn.execute(query)).all():
            out.setdefault(int(uid), []).append(str(code))
    return out


async def units_taken(engine: AsyncEngine, world: World) -> int:
    async with engine.connect() as conn:
        query = select(func.count()).select_from(slots).where(slots.c.drop_id == world.drop_id)
        return int((await conn.execute(query)).scalar_one())


def private_texts(messages: list[dict[str, Any]]) -> dict[int, list[str]]:
    """The bot's private messages (chat id > 0), their texts by user id."""
    out: dict[int, list[str]] = {}
    for m in messages:
        chat = int(m["chat"]["id"])
        if chat > 0:
            out.setdefault(chat, []).append(str(m.get("text") or m.get("caption") or ""))
    return out


def missing_code_messages(won: dict[int, list[str]], messages: list[dict[str, Any]]) -> int:
    """Win rows whose code reached its winner in no private message."""
    texts = private_texts(messages)
    return sum(
        1
        for uid, codes in won.items()
        for code in codes
        if not any(code in t for t in texts.get(uid, []))
    )


def claim_outcome(
    presses: list[dict[str, Any]],
    answers: dict[str, str],
    won: dict[int, list[str]],
    messages: list[dict[str, Any]],
    *,
    quota: int,
    taken: int,
) -> dict[str, Any]:
    """What a claim burst left: winners and units against the quota, members who won twice,
    and announcements lost (a presser told they got it with no win row of that code, or a win
    row whose code message never reached its winner)."""
    told_won = 0
    false_wins = 0
    for p in presses:
        answer = answers.get(str(p["callback_query"]["id"]))
        if answer is None or not answer.startswith(WON):
            continue
        told_won += 1
        codes = won.get(int(p["callback_query"]["from"]["id"]), [])
        if not any(code in answer for code in codes):
            false_wins += 1
    winners = sum(len(codes) for codes in won.values())
    per_user = Counter({uid: len(codes) for uid, codes in won.items()})
    return {
        "winners": winners,
        "quota": quota,
        "units_taken": taken,
        "oversold": max(0, taken - quota, winners - quota),
        "duplicate_winners": sum(1 for n in per_user.values() if n > 1),
        "told_won": told_won,
        "lost_announced": false_wins + missing_code_messages(won, messages),
        "answered": sum(1 for p in presses if str(p["callback_query"]["id"]) in answers),
    }
