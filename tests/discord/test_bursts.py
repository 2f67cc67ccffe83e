"""Bursts through the Discord adapter: redelivered interactions under load act once, a claim
burst gives the quota and no more with every presser answered, and a SIGKILL of the bot's
process mid-burst loses no vote a member was told about and doubles none."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.adapters.discord import Tuning
from bot.core.app import App
from bot.core.clock import SystemClock
from devtools.bench.discord import claim_outcome, seed_claim_drop
from devtools.servers.discord_api import FakeDiscord, Interaction
from storage.suggestions.schema import votes as votes_table
from tests.conftest import _templates, engine_url
from tests.discord.conftest import StartBot, eventually, suggest, text_of

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("crash_bot.py")
BURST = Tuning(ack_budget=1.0, max_concurrency=4, guild_ready_timeout=0.05)
FIRST_USER = 1500000000000000000


def callbacks(fake: FakeDiscord, record: Interaction) -> list[int]:
    """The status of every response the bot tried to give the interaction."""
    return [c.status for c in fake.calls_to("POST", rf"/interactions/{record.id}/[^/]+/callback")]


async def all_done(records: list[Interaction], within: float = 120.0) -> None:
    await asyncio.wait_for(asyncio.gather(*(r.done.wait() for r in records)), within)


async def all_settled(fake: FakeDiscord, records: list[Interaction]) -> None:
    """Every interaction answered, or past Discord's deadline unacknowledged (a loaded machine
    may let some expire: those must do nothing)."""

    async def settled() -> bool:
        now = time.monotonic()
        return all(
            r.done.is_set() or (r.ack_type is None and now - r.sent_at > fake.ack_deadline)
            for r in records
        )

    await eventually(settled, within=120)


async def vote_count(app: App) -> int:
    async with app.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(votes_table))).scalar_one())


async def test_presses_redelivered_under_load_vote_once(
    fake: FakeDiscord, app: App, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.adapters.discord.respond")
    bot = await start_bot(BURST)
    card = await suggest(bot, fake.add_member("Alice"), "Dark mode")
    presses = [fake.press(fake.add_member(f"Fan{i}"), card, "sv:1") for i in range(120)]
    # Every press delivered twice, the copy right behind the original, all at once.
    records = []
    for press in presses:
        records.append(await fake.send(press))
        await fake.send(press)
    await all_settled(fake, records)
    answered = [r for r in records if r.ack_type is not None]
    await bot.close()
    # A new process, and every press delivered a third time, all at once: a burst, so each is
    # acknowledged before any work, and Discord refuses that as already acknowledged.
    restarted = await App.create(app.settings, app.clock, engine=app.engine, migrate=False)
    await start_bot(BURST, restarted)
    for press in presses:
        await fake.send(press)

    async def refused_or_let_go() -> bool:
        # The calm start looks the first few up in the database and lets them go (and says
        # so); the rest are refused as acknowledged already.
        lines = " ".join(
            r.getMessage() for r in caplog.records if "delivered again" in r.getMessage()
        )
        return all(
            len(callbacks(fake, r)) >= 2 or f"interaction {r.id} " in lines for r in answered
        )

    await eventually(refused_or_let_go, within=60)
    assert len(answered) > len(records) // 2
    assert all(r.deliveries == 3 for r in records)
    for record in answered:
        statuses = callbacks(fake, record)
        assert statuses.count(200) == 1 and set(statuses) <= {200, 400}
        assert "Votes now" in text_of(record.message)
    assert await vote_count(restarted) == 1 + len(answered)  # the author's and one each


async def test_a_claim_burst_gives_the_quota_and_answers_every_presser(
    fake: FakeDiscord, app: App, start_bot: StartBot
) -> None:
    pressers, quota = 300, 30
    # The claim engine runs on the wall clock (drops open and close by it).
    live = await App.create(app.settings, SystemClock(), engine=app.engine, migrate=False)
    bot = await start_bot(BURST, live)
    await suggest(bot, fake.add_member("Author"), "Anything")  # the community exists
    cid, _ = await live.identity.community_for_space(
        "discord", str(fake.guild.id), "", live.clock.now()
    )
    drop_id = await seed_claim_drop(live, cid, pressers, quota, FIRST_USER)
    message = fake.bot_message([f"dc:{drop_id}"])
    users = [fake.add_user(f"fan{i}", uid=FIRST_USER + i) for i in range(pressers)]
    for user in users:
        fake.guild.members[int(user["id"])] = []
    records = [await fake.send(fake.press(user, message, f"dc:{drop_id}")) for user in users]
    await all_done(records)

    outcome = await claim_outcome(live, drop_id, quota)
    assert outcome == {"winners": quota, "oversold": 0, "waitlisted": quota}
    # Every presser was answered, each with one of the three answers of a sold-out burst.
    answers = [text_of(r.message) for r in records]
    won = sum("Your redemption code" in a for a in answers)
    waiting = sum("on the waiting list:" in a for a in answers)
    sold_out = sum("waiting list is full" in a for a in answers)
    assert (won, waiting, sold_out) == (quota, quota, pressers - 2 * quota)


def _spawn(url: str, schema: str, fake: FakeDiscord, data: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [url, schema, fake.api_base, fake.gateway_url, str(data)]
    return subprocess.Popen([sys.executable, str(CHILD), *args], cwd=ROOT, env=env)


async def _connected(fake: FakeDiscord, child: subprocess.Popen[bytes]) -> None:
    async def up() -> bool:
        assert child.poll() is None, "the bot's process ended"
        return fake.identified.is_set()

    await eventually(up, within=60)


def _told_voted(records: list[Interaction]) -> set[str]:
    """The members whose screen says their vote counted."""
    return {
        str(r.payload["member"]["user"]["id"])
        for r in records
        if r.messages and "Votes now" in text_of(r.message)
    }


async def test_sigkill_mid_burst_loses_no_announced_vote(
    db_kind: str, tmp_path: Path, fake: FakeDiscord, app: App, start_bot: StartBot
) -> None:
    url = engine_url(db_kind, tmp_path)
    schema = "" if db_kind == "sqlite" else str(_templates().pg_schema)
    bot = await start_bot(BURST)
    card = await suggest(bot, fake.add_member("Alice"), "Dark mode")
    await bot.close()

    fake.identified.clear()
    child = _spawn(url, schema, fake, tmp_path / "data")
    try:
        await _connected(fake, child)
        presses = [fake.press(fake.add_member(f"Fan{i}"), card, "sv:1") for i in range(600)]
        records = [await fake.send(p) for p in presses]

        async def some_told() -> bool:
            return len(_told_voted(records)) >= 20

        await eventually(some_told, within=120)
        child.send_signal(signal.SIGKILL)
        child.wait()
        told_before = _told_voted(records)
        assert len(told_before) < len(records), "the burst ended before it could be killed"

        # Restarted, and the whole burst delivered again (as a resumed gateway session may):
        # nothing is done twice.
        fake.identified.clear()
        child = _spawn(url, schema, fake, tmp_path / "data")
        await _connected(fake, child)
        for press in presses:
            await fake.send(press)
        restarted = await App.create(app.settings, app.clock, engine=app.engine, migrate=False)

        async def settled() -> bool:
            pending = [r for r in records if len(callbacks(fake, r)) < 2 and r.ack_type is None]
            return not pending or all(r.late for r in pending)

        await eventually(settled, within=60)
        voters = await _voters(restarted)
        told = _told_voted(records)
        assert told_before <= told
        missing = told - voters
        assert not missing, f"{len(missing)} members were told 'voted' but have no vote"
        assert await vote_count(restarted) == len(voters)  # one vote each, none doubled
        for record in records:
            assert callbacks(fake, record).count(200) <= 1
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            child.wait()


async def _voters(app: App) -> set[str]:
    from storage.core.schema import identities

    async with app.engine.connect() as conn:
        rows = await conn.execute(
            select(identities.c.platform_user_id)
            .join(votes_table, votes_table.c.account_id == identities.c.account_id)
            .where(identities.c.platform == "discord")
        )
        return {str(r[0]) for r in rows}
