"""Two `fanloop run` processes on one PostgreSQL database, each running one shard of two,
against the local Discord server: each guild's interactions reach the process that runs its
shard (shown by pausing the other process), votes are counted once, also when Discord delivers
a press twice, and the commands are synced once although both processes start together."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.app import App
from bot.core.clock import SystemClock
from cogs.suggestions.service import SuggestionService
from config.settings import FanloopSettings
from devtools.servers.discord_api import APP_ID, GUILD_ID, FakeDiscord, Guild
from devtools.servers.discord_api.shards import shard_of
from tests.conftest import PG_URL, make_engine
from tests.discord.conftest import TOKEN, buttons, text_of

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("shard_child.py")
PUT_GLOBAL = rf"/applications/{APP_ID}/commands"
VOTERS = 8
WITHIN = 30.0  # seconds for one answer: two bot processes share a busy machine with the test


@dataclass
class Cluster:
    fake: FakeDiscord
    engine: AsyncEngine
    processes: dict[int, subprocess.Popen[bytes]]  # shard id -> the process that runs it

    def alive(self) -> None:
        for shard, child in self.processes.items():
            assert child.poll() is None, f"the process of shard {shard} ended ({child.returncode})"


def _spawn(schema: str, fake: FakeDiscord, shard: int, data: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANLOOP_")}
    env.update(
        PYTHONPATH=str(ROOT),
        FANLOOP_DATABASE_URL=PG_URL,
        FANLOOP_DATA_DIR=str(data),
        FANLOOP_DISCORD_TOKEN=TOKEN,
        FANLOOP_DISCORD_API_BASE=fake.api_base,
        FANLOOP_DISCORD_GATEWAY_URL=fake.gateway_url,
        FANLOOP_DISCORD_SHARD_COUNT="2",
        FANLOOP_DISCORD_SHARD_IDS=str(shard),
        FANLOOP_STOP_GRACE_SECONDS="5",
    )
    data.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, str(CHILD), schema], cwd=data, env=env)


async def _until(condition: Callable[[], bool], what: str, cluster: Cluster) -> None:
    for _ in range(2400):  # two minutes at most
        if condition():
            return
        cluster.alive()
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


@pytest_asyncio.fixture
async def cluster(postgresql: None, tmp_path: Path) -> AsyncIterator[Cluster]:
    engine, schema = await make_engine("postgresql", tmp_path)
    assert schema is not None
    fake = await FakeDiscord().start()
    processes: dict[int, subprocess.Popen[bytes]] = {}
    try:
        # Both start together: both would sync the commands if nothing arbitrated.
        processes = {s: _spawn(schema, fake, s, tmp_path / f"p{s}") for s in (0, 1)}
        yield Cluster(fake, engine, processes)
    finally:
        for child in processes.values():
            if child.poll() is None:
                child.send_signal(signal.SIGCONT)
                child.send_signal(signal.SIGTERM)
        for child in processes.values():
            try:
                await asyncio.to_thread(child.wait, 60)
            except subprocess.TimeoutExpired:
                child.kill()
        await fake.stop()
        await engine.dispose()


async def _vote_round(cluster: Cluster, guild: Guild) -> dict[str, Any]:
    """A suggestion and VOTERS votes on it in `guild`, each press delivered twice."""
    fake = cluster.fake
    alice = fake.add_member("Alice", guild=guild.id)
    opened = await fake.run(fake.slash(alice, "suggest", _guild=guild.id), WITHIN)
    assert opened.modal is not None, "/suggest did not open its form"
    title = f"Offline mode for {guild.name}"
    form = fake.submit(alice, opened.modal, {"title": title}, guild=guild.id)
    card = (await fake.run(form, WITHIN)).message
    assert title in text_of(card)
    (button,) = buttons(card)
    presses = [
        fake.press(fake.add_member(f"Fan {i}", guild=guild.id), card, button["custom_id"])
        for i in range(VOTERS)
    ]
    sent = [await fake.send(p) for p in presses]
    again = [await fake.send(p) for p in presses]  # Discord delivers each press once more
    assert again == sent  # the same interactions: one answer each
    await asyncio.gather(*(r.wait(WITHIN) for r in sent))
    assert all(r.ack_type is not None and not r.late for r in sent)
    return card


async def _votes(cluster: Cluster, guild: Guild, card: dict[str, Any]) -> int:
    clock = SystemClock()
    app = await App.create(FanloopSettings(), clock, engine=cluster.engine, migrate=False)
    cid, _ = await app.identity.community_for_space("discord", str(guild.id), "", clock.now())
    sid = int(buttons(card)[0]["custom_id"].rsplit(":", 1)[1])
    return (await app.services.get(SuggestionService).get(cid, sid)).votes


async def test_two_processes_each_serve_their_shard(cluster: Cluster) -> None:
    fake = cluster.fake
    zero = fake.add_guild("Shard Zero Fans", shard=(0, 2))
    one = fake.guilds[GUILD_ID]
    assert shard_of(one.id, 2) == 1

    def connected() -> bool:
        return all(s in fake.sessions and not fake.sessions[s].ws.closed for s in (0, 1))

    await _until(connected, "both shards connected", cluster)
    assert sorted(i["shard"] for i in fake.identifies) == [[0, 2], [1, 2]]
    # A process syncs (or decides not to) before it connects: both decided by now.
    puts = fake.calls_to("PUT", PUT_GLOBAL)
    assert [c.status for c in puts] == [200], "the commands were synced more or less than once"

    paused = {0: 1, 1: 0}  # to show who serves a shard, the other process is stopped meanwhile
    cards = {}
    for shard, guild in ((0, zero), (1, one)):
        other = cluster.processes[paused[shard]]
        other.send_signal(signal.SIGSTOP)
        try:
            cards[shard] = await _vote_round(cluster, guild)
        finally:
            other.send_signal(signal.SIGCONT)

    for shard, guild in ((0, zero), (1, one)):
        card = cards[shard]
        assert await _votes(cluster, guild, card) == VOTERS + 1  # Alice's own vote, and one each

        def shows_all(card: dict[str, Any] = card) -> bool:
            return any(f"({VOTERS + 1})" in label for label in fake.labels(card["id"]))

        await _until(shows_all, f"the card in {guild.name} shows {VOTERS + 1} votes", cluster)
    assert len(fake.calls_to("PUT", PUT_GLOBAL)) == 1
    for child in cluster.processes.values():
        child.send_signal(signal.SIGTERM)
    codes = [await asyncio.to_thread(c.wait, 60) for c in cluster.processes.values()]
    assert codes == [0, 0]
