"""Two `fanloop run` processes serving one bot in webhook mode, on one PostgreSQL database,
behind a round-robin front (devtools/servers/webhook_front.py), against the local Bot API
server: presses spread over both act once and are answered once, an update delivered to both
acts once, the group's sending limits hold for both together, the webhook is set once, and a
process SIGKILLed mid-burst loses nothing (the other takes over what it left, then a restart).

`fanloop run` reads its database from the environment, so each test gets a PostgreSQL role of
its own whose schema (of the same name) is first on its default search path.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from devtools.cluster import private_database, until_listening
from devtools.servers.telegram_api import FakeTelegram, callback_update, group, message_update, user
from devtools.servers.webhook_front import WebhookFront
from storage.engine import create_engine
from storage.platform.schema import telegram_inbox
from storage.suggestions.schema import votes
from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "7000001:WORKERS-token"
GROUP_ID = -1008100000
FIRST_MEMBER = 610_000_000
WAIT = 600.0  # seconds: only against a hang (a loaded machine is slow), not a measurement
GROUP_LIMIT, GROUP_WINDOW, CHAT_INTERVAL = 20, 60.0, 1.0  # Telegram's, kept by the throttle
# The server stamps a message when it arrives, a moment after its slot was taken: the checks
# read spans of several messages, with an allowance for that delay on a loaded machine. Two
# processes pacing alone send two messages a second, and all 22 in about 11 s.
RUN, RUN_SLACK, WINDOW_SLACK = 10, 2.0, 5.0


@pytest_asyncio.fixture
async def database(db_kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """A role and its schema, migrated with `fanloop migrate` (the deploy step); the URL."""
    if db_kind != "postgresql":
        pytest.skip("several processes serve one bot on PostgreSQL only")
    async with private_database(PG_URL, prefix="tgw") as url:
        migrate = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "migrate",
            "--db",
            url,
            cwd=tmp_path,
            env=_env(tmp_path),
        )
        assert await migrate.wait() == 0
        yield url


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANLOOP_")}
    env.update(PYTHONPATH=str(ROOT), FANLOOP_DATA_DIR=str(tmp_path / "data"), **values)
    return env


class Worker:
    """One `fanloop run` process: a webhook worker with its own port, or (no port) a poller."""

    def __init__(
        self, tmp_path: Path, url: str, fake: FakeTelegram, hook: str | None, port: int | None
    ) -> None:
        self.port = port
        webhook = {"FANLOOP_TELEGRAM_WEBHOOK_URL": hook} if hook else {}
        if port:
            webhook["FANLOOP_TELEGRAM_WEBHOOK_PORT"] = str(port)
        self.folder = tmp_path / f"w{uuid.uuid4().hex[:6]}"
        self.env = _env(
            self.folder,
            FANLOOP_DATABASE_URL=url,
            FANLOOP_TELEGRAM_TOKEN=TOKEN,
            FANLOOP_TELEGRAM_BASE_URL=fake.base_url,
            **webhook,
        )
        self.cwd = tmp_path
        self.log = self.folder / "stderr.log"
        self.proc: asyncio.subprocess.Process | None = None

    def said(self, text: str) -> bool:
        return self.log.exists() and text in self.log.read_text(errors="replace")

    async def start(self, ready: str | None = None) -> None:
        """Start it; wait until its webhook server listens (or it logged `ready`)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", cwd=self.cwd, env=self.env, stderr=err
            )
        if self.port is not None:
            await until_listening(self.proc, self.port, WAIT, f"fanloop run (see {self.log})")
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while ready is not None and not self.said(ready):
            assert self.proc.returncode is None, "fanloop run ended"
            assert loop.time() < deadline, "it never became ready"
            await asyncio.sleep(0.05)

    def pause(self) -> None:
        """Freeze it (SIGSTOP): what it was handed stays unanswered until it is killed."""
        assert self.proc is not None and self.proc.returncode is None
        self.proc.send_signal(signal.SIGSTOP)

    async def kill(self) -> None:
        assert self.proc is not None and self.proc.returncode is None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 60)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    try:
        yield server
    finally:
        await server.stop()


@pytest_asyncio.fixture
async def cluster(
    tmp_path: Path, database: str, fake: FakeTelegram, unused_tcp_port_factory: Any
) -> AsyncIterator[tuple[list[Worker], WebhookFront, AsyncEngine]]:
    ports = [unused_tcp_port_factory(), unused_tcp_port_factory()]
    front = await WebhookFront([f"http://127.0.0.1:{p}/hook" for p in ports]).start()
    workers = [Worker(tmp_path, database, fake, front.url, p) for p in ports]
    engine = create_engine(database)
    try:
        await asyncio.gather(*(w.start() for w in workers))
        yield workers, front, engine
    finally:
        await asyncio.gather(*(w.stop() for w in workers))
        await front.stop()
        await engine.dispose()


async def _until(check: Any, what: str) -> None:
    """Wait (without a timed assertion) until `check()` is true; fail after WAIT seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not await check():
        assert loop.time() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.05)


async def _post_card(fake: FakeTelegram) -> dict[str, Any]:
    chat = group(GROUP_ID, "Workers fans")
    await fake.push_update(
        message_update(chat, user(FIRST_MEMBER - 1, "Author"), '/suggest "Dark mode"')
    )

    async def posted() -> bool:
        return bool(fake.sent(GROUP_ID))

    await _until(posted, "the suggestion's card posted")
    return fake.sent(GROUP_ID)[-1]


def _presses(card: dict[str, Any], first: int, count: int) -> list[dict[str, Any]]:
    return [
        callback_update(user(FIRST_MEMBER + i, f"Fan {i}"), card, "sv:1", update_id=50_000 + i)
        for i in range(first, first + count)
    ]


async def _vote_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(votes))).scalar_one())


async def _all_handled(engine: AsyncEngine, ids: set[int]) -> bool:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(select(telegram_inbox.c.update_id, telegram_inbox.c.handled_at))
        ).all()
    stored = {int(r[0]) for r in rows}
    return ids <= stored and all(r[1] is not None for r in rows)


async def _wait_answered(fake: FakeTelegram, engine: AsyncEngine, query_ids: set[str]) -> None:
    try:
        await fake.wait_answered(query_ids, within=WAIT)
    except TimeoutError:
        missing = sorted(query_ids - fake.answered_at.keys())
        ids = [int(q.removeprefix("q")) for q in missing]
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        telegram_inbox.c.update_id,
                        telegram_inbox.c.worker,
                        telegram_inbox.c.handled_at,
                    ).where(telegram_inbox.c.update_id.in_(ids))
                )
            ).all()
        pytest.fail(f"not answered: {missing}; in the inbox: {rows}")


def _answers_per_query(fake: FakeTelegram) -> Counter[str]:
    """Answers that reached the server (as requests, or in webhook responses), per query."""
    return Counter(str(c.params["callback_query_id"]) for c in fake.calls_to("answerCallbackQuery"))


def _group_send_times(fake: FakeTelegram) -> list[float]:
    methods = (
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageReplyMarkup",
    )
    return sorted(
        c.at
        for c in fake.calls
        if c.method in methods and int(c.params.get("chat_id", 0)) == GROUP_ID
    )


async def test_two_workers_act_once_answer_once_and_share_the_group_limit(
    fake: FakeTelegram, cluster: tuple[list[Worker], WebhookFront, AsyncEngine]
) -> None:
    _workers, front, engine = cluster
    assert len(fake.calls_to("setWebhook")) == 1  # one process set it; the other found it set
    card = await _post_card(fake)

    # A burst spread over both workers, then presses delivered to both at once.
    spread = _presses(card, 0, 120)
    await fake.push_updates(spread)
    await fake.wait_answered({p["callback_query"]["id"] for p in spread}, within=WAIT)
    front.copies = 2
    doubled = _presses(card, 120, 30)
    await fake.push_updates(doubled)
    await fake.wait_answered({p["callback_query"]["id"] for p in doubled}, within=WAIT)
    front.copies = 1
    assert all(front.served[b] > 0 for b in front.backends), front.served

    presses = spread + doubled
    ids = {int(p["update_id"]) for p in presses}
    await _until(lambda: _all_handled(engine, ids), "every update handled")
    assert await _vote_count(engine) == len(presses) + 1  # every member once, and the author
    answers = _answers_per_query(fake)
    assert {p["callback_query"]["id"] for p in presses} <= answers.keys()
    assert max(answers.values()) == 1, "a press was answered twice"

    # More messages to the group than it may get in a minute, from both workers.
    chat = group(GROUP_ID, "Workers fans")
    asks = [
        message_update(chat, user(FIRST_MEMBER + 500 + i, f"Asker {i}"), "/roadmap")
        for i in range(GROUP_LIMIT + 2)
    ]
    before = len(_group_send_times(fake))
    await fake.push_updates(asks)

    async def all_replied() -> bool:
        return len(_group_send_times(fake)) >= before + len(asks)

    await _until(all_replied, "every /roadmap answered in the group")
    times = _group_send_times(fake)
    runs = [times[i + RUN] - times[i] for i in range(len(times) - RUN)]
    assert min(runs) >= RUN * CHAT_INTERVAL - RUN_SLACK, "more than one message a second"
    spans = [times[i + GROUP_LIMIT] - times[i] for i in range(len(times) - GROUP_LIMIT)]
    assert min(spans) >= GROUP_WINDOW - WINDOW_SLACK, "over 20 messages to the group in a minute"


async def test_a_worker_killed_mid_burst_loses_nothing(
    fake: FakeTelegram, cluster: tuple[list[Worker], WebhookFront, AsyncEngine]
) -> None:
    workers, front, engine = cluster
    card = await _post_card(fake)
    presses = _presses(card, 0, 200)
    query_ids = {p["callback_query"]["id"] for p in presses}
    # Two waves: once a fifth of the first is answered, the first worker is frozen; the second
    # wave goes out, and once the front has handed the frozen worker a press (one it never
    # answered), it is killed: mid-burst by construction, however fast the workers are.
    await fake.push_updates(presses[:100])

    async def a_fifth_answered() -> bool:
        return len(query_ids & fake.answered_at.keys()) >= len(presses) // 5

    await _until(a_fifth_answered, "a fifth of the presses answered")
    workers[0].pause()
    frozen, handed_before = front.backends[0], front.forwarded[front.backends[0]]
    await fake.push_updates(presses[100:])

    async def handed_a_press() -> bool:
        return front.forwarded[frozen] > handed_before

    await _until(handed_a_press, "a press handed to the frozen worker")
    await workers[0].kill()
    assert len(query_ids & fake.answered_at.keys()) < len(presses)
    # The survivor answers everything: what reaches it through the front, and what the dead
    # worker had stored and not handled (it takes that over).
    await _wait_answered(fake, engine, query_ids)
    ids = {int(p["update_id"]) for p in presses}
    await _until(lambda: _all_handled(engine, ids), "every update handled")
    await workers[0].start()  # a restart: nothing left to do, nothing done twice
    more = _presses(card, 200, 20)
    await fake.push_updates(more)
    await fake.wait_answered({p["callback_query"]["id"] for p in more}, within=WAIT)
    await _until(lambda: _all_handled(engine, ids | {int(p["update_id"]) for p in more}), "handled")
    assert await _vote_count(engine) == len(presses) + len(more) + 1


async def test_in_polling_mode_one_process_polls_and_another_takes_over(
    tmp_path: Path, database: str, fake: FakeTelegram
) -> None:
    workers = [Worker(tmp_path, database, fake, None, None) for _ in range(2)]
    engine = create_engine(database)
    polls, stands_by = "telegram: long polling", "standing by to take over"
    try:
        await workers[0].start(ready=polls)
        await workers[1].start(ready=stands_by)
        card = await _post_card(fake)
        presses = _presses(card, 0, 60)
        await fake.push_updates(presses)
        await _wait_answered(fake, engine, {p["callback_query"]["id"] for p in presses})
        assert fake.poll_conflicts == 0  # never two pollers at once
        assert not workers[1].said(polls)

        await workers[0].kill()
        more = _presses(card, 60, 60)
        await fake.push_updates(more)
        await _wait_answered(fake, engine, {p["callback_query"]["id"] for p in more})
        assert workers[1].said(polls)
        ids = {int(p["update_id"]) for p in presses + more}
        await _until(lambda: _all_handled(engine, ids), "every update handled")
        assert await _vote_count(engine) == len(presses) + len(more) + 1
    finally:
        await asyncio.gather(*(w.stop() for w in workers))
        await engine.dispose()
