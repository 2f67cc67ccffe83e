"""Three `fanloop run` processes on one PostgreSQL, serving one bot: Telegram webhook workers
all three, behind a round-robin front (devtools/servers/webhook_front.py), and the local Discord
server's two shards split over two of them (A: Telegram + shard 0, B: Telegram + shard 1,
C: Telegram only). The scheduler opens and closes the four-grid report once; a claim burst
spread over the processes gives the quota's winners and no more, each once; one process is
SIGKILLed mid-burst and restarted, and every presser is answered with nothing announced lost;
a suggestion posted through one process is offered as a duplicate through another.

Each test gets a PostgreSQL role of its own whose search path is its own schema
(devtools/cluster.py), since `fanloop run` takes only a database URL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from devtools.cluster import (
    GROUP_ID,
    Discord,
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
from devtools.servers.discord_api import FakeDiscord
from devtools.servers.telegram_api import FakeTelegram, group, message_update, user
from devtools.servers.webhook_front import WebhookFront
from storage.engine import create_engine
from storage.platform.schema import telegram_inbox
from tests.conftest import PG_URL
from tests.discord.conftest import TOKEN as DISCORD_TOKEN

PRESSERS, QUOTA = 150, 30
WAIT = 150.0  # seconds: only against a hang (three processes share a loaded machine)


@dataclass
class Cluster:
    nodes: list[Node]
    front: WebhookFront
    telegram: FakeTelegram
    discord: FakeDiscord
    engine: AsyncEngine
    world: World


@pytest_asyncio.fixture
async def cluster(
    db_kind: str, tmp_path: Path, unused_tcp_port_factory: Any
) -> AsyncIterator[Cluster]:
    if db_kind != "postgresql":
        pytest.skip("several processes share a database on PostgreSQL only")
    async with private_database(PG_URL) as url:
        world = await seed_world(url, tmp_path, pressers=PRESSERS, quota=QUOTA)
        telegram = await FakeTelegram().start()
        discord = await FakeDiscord().start()
        ports = [unused_tcp_port_factory() for _ in range(3)]
        front = await WebhookFront([f"http://127.0.0.1:{p}/hook" for p in ports]).start()

        def shard(n: int) -> Discord:
            return Discord(discord.api_base, discord.gateway_url, DISCORD_TOKEN, n, 2)

        shards = [shard(0), shard(1), None]
        nodes = [
            Node(name, tmp_path, url, telegram.base_url, front.url, port, discord=s)
            for name, port, s in zip("ABC", ports, shards, strict=True)
        ]
        engine = create_engine(url)
        try:
            await asyncio.gather(*(n.start() for n in nodes))
            yield Cluster(nodes, front, telegram, discord, engine, world)
        finally:
            codes = await asyncio.gather(*(n.stop() for n in nodes))
            await front.stop()
            await discord.stop()
            await telegram.stop()
            await engine.dispose()
        assert codes == [0, 0, 0], f"a process did not stop cleanly: {codes}"


async def _until(check: Callable[[], Awaitable[bool]], what: str, cluster: Cluster) -> None:
    """Wait (without a timed assertion) until `check()` is true; fail after WAIT seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not await check():
        for node in cluster.nodes:
            assert node.alive, f"{node.name} ended: see {node.log}"
        assert loop.time() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.05)


async def test_three_processes_report_once_claim_once_and_survive_a_kill(
    cluster: Cluster,
) -> None:
    fake, world, engine = cluster.telegram, cluster.world, cluster.engine

    async def shards_connected() -> bool:
        sessions = cluster.discord.sessions
        return all(s in sessions and not sessions[s].ws.closed for s in (0, 1))

    await _until(shards_connected, "both Discord shards connected", cluster)
    assert sorted(i["shard"] for i in cluster.discord.identifies) == [[0, 2], [1, 2]]

    # The scheduler (whichever process leads) opens the due report; brought to its end, it is
    # closed, once.
    async def opened() -> bool:
        return await close_report_soon(engine, world)

    await _until(opened, "the four-grid report opened", cluster)

    async def closed() -> bool:
        return (await report_counts(engine, world))[1] == 1

    await _until(closed, "the four-grid report closed", cluster)

    # Every reserver presses "Claim now", spread over the three processes, in two waves. Once
    # every process has answered some of the first, B is frozen (SIGSTOP); the second wave goes
    # out, and once the front has handed B a press after the freeze (a press B never answered),
    # B is SIGKILLed mid-burst and restarted.
    presses = claim_presses(world, drop_card(), 0, PRESSERS)
    query_ids = {p["callback_query"]["id"] for p in presses}
    first, second = presses[: PRESSERS // 2], presses[PRESSERS // 2 :]
    front, b = cluster.front, cluster.front.backends[1]
    await fake.push_updates(first)

    async def served_by_all() -> bool:
        return all(front.served[w] for w in front.backends)

    await _until(served_by_all, "an answer from every process", cluster)
    cluster.nodes[1].pause()
    handed_before = front.forwarded[b]
    await fake.push_updates(second)

    async def b_handed_a_press() -> bool:
        return front.forwarded[b] > handed_before

    await _until(b_handed_a_press, "a press handed to the frozen process", cluster)
    await cluster.nodes[1].kill()
    assert len(query_ids & fake.answered_at.keys()) < PRESSERS
    await cluster.nodes[1].start()

    async def all_answered() -> bool:
        return query_ids <= fake.answered_at.keys()

    await _until(all_answered, "every presser answered", cluster)

    won = await wins_by_user(engine, world)

    async def codes_delivered() -> bool:
        return missing_code_messages(won, fake.sent()) == 0

    await _until(codes_delivered, "every winner's code message sent", cluster)
    outcome = claim_outcome(
        presses,
        fake.answer_texts,
        won,
        fake.sent(),
        quota=QUOTA,
        taken=await units_taken(engine, world),
    )
    assert outcome["winners"] == QUOTA
    assert outcome["oversold"] == 0
    assert outcome["duplicate_winners"] == 0
    # Winners are told in the press's answer, or (an answer slower than its budget on a loaded
    # machine says "received") by the code message alone; no one is told a win they lack.
    # (`lost_announced` counts both a false win and a winner without the code message.)
    assert outcome["told_won"] <= QUOTA
    assert outcome["lost_announced"] == 0
    assert outcome["answered"] == PRESSERS
    # The restart reopened nothing: one report, opened and closed once.
    assert await report_counts(engine, world) == (1, 1)


async def test_a_suggestion_posted_through_one_process_is_offered_as_a_duplicate_through_another(
    cluster: Cluster,
) -> None:
    fake, engine = cluster.telegram, cluster.engine
    chat = group(GROUP_ID, "Cluster fans")

    async def suggest(uid: int, title: str) -> tuple[int, str]:
        """Send /suggest; its update id, and the first message after it that names `title`."""
        before = len(fake.sent())
        update = message_update(chat, user(uid, f"Fan {uid}"), f'/suggest "{title}"')
        await fake.push_update(update)

        def naming() -> list[str]:
            return [str(m.get("text")) for m in fake.sent()[before:] if title in str(m.get("text"))]

        async def answered() -> bool:
            return bool(naming())

        await _until(answered, f"/suggest {title} answered", cluster)
        return int(update["update_id"]), naming()[0]

    # Each process posts one first (round robin), so each holds its index before the post that
    # matters: a process reading the board afresh would find anything.
    warm = [
        await suggest(900_000 + i, title)
        for i, title in enumerate(("Calendar sync", "Bigger emoji", "Weekly digest by mail"))
    ]
    first, _ = await suggest(900_011, "Offline mode for the app")
    second, reply = await suggest(900_012, "Offline mode for the app")
    ids = [u for u, _ in warm] + [first, second]
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(telegram_inbox.c.update_id, telegram_inbox.c.worker).where(
                telegram_inbox.c.update_id.in_(ids)
            )
        )
        workers = dict(rows.all())
    assert len({workers[u] for u, _ in warm}) == 3, f"not one each: {workers}"
    assert workers[first] != workers[second], f"both went to one process: {workers}"
    assert "Is it one of these?" in reply, reply
    assert "Offline mode for the app" in reply
