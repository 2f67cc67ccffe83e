"""Behaviour of the duplicate finder: incremental changes, exclusion, languages, scores."""

from __future__ import annotations

from pathlib import Path

from cogs.suggestions.similarity import LIKELY_DUPLICATE, RELATED, make_index
from cogs.suggestions.similarity.dedup_index import DedupIndex
from cogs.suggestions.similarity.text import normalize
from devtools.similarity.synthetic import board

BOARD = [
    "Please add dark mode to the settings page",
    "Export chat history as CSV",
    "Leaderboard should reset every month",
    "Bot crashes when I upload a large image",
    "希望增加夜间模式",
    "能不能支持导出聊天记录",
    "排行榜每个月重置一次",
    "上传大图片的时候机器人会崩溃",
    "希望支持 dark mode，晚上看太刺眼了",
    "Add a poll command with anonymous voting",
    "投票功能能不能匿名",
    "Show the weekly report as a chart",
]


def make_board(extra: int = 0) -> DedupIndex:
    index = DedupIndex()
    for i, text in enumerate(BOARD):
        index.add(i, text)
    for i, text in enumerate(board(extra, seed=3), start=1000):
        index.add(i, text)
    return index


def top(index: DedupIndex, text: str, **kw: object) -> int | None:
    hits = index.query(text, k=5, **kw)  # type: ignore[arg-type]
    return hits[0][0] if hits else None


def test_make_index_is_the_engine() -> None:
    assert isinstance(make_index(), DedupIndex)


def test_finds_english_paraphrase() -> None:
    index = make_board(200)
    assert top(index, "dark mode in settings please") == 0
    assert top(index, "the bot crashed after uploading big images") == 3


def test_finds_chinese_paraphrase() -> None:
    index = make_board(200)
    assert top(index, "请问怎么导出聊天记录？") == 5
    assert top(index, "上传大图片时机器人崩溃了") == 7


def test_finds_mixed_text() -> None:
    index = make_board(200)
    assert top(index, "dark mode 什么时候支持？晚上太刺眼") == 8


def test_a_request_written_in_taiwan_finds_its_mainland_twin_and_back() -> None:
    """Traditional characters and Taiwan's words (設定/设置, 支援/支持, 影片/视频) are read as the
    mainland's, in both directions, and the twin is offered as a likely duplicate."""
    index = make_board(200)
    index.add(50, "希望设置页面能支持深色模式")
    index.add(51, "網頁版不能上傳影片")
    hits = index.query("希望設定頁面可以支援深色模式", k=3)
    assert hits[0][0] == 50 and hits[0][1] >= LIKELY_DUPLICATE, hits
    hits = index.query("网页版不能上传视频", k=3)
    assert hits[0][0] == 51 and hits[0][1] >= LIKELY_DUPLICATE, hits


def test_the_hand_written_regional_pairs_find_each_other() -> None:
    """60 requests written as a fan in Taiwan and one in the mainland write them."""
    from devtools.similarity.dedup_eval import load_pairs
    from devtools.similarity.evaluate import run

    docs, queries = load_pairs(Path(__file__).parent / "data" / "regional_pairs_zh.tsv")
    assert len(queries) == 120
    report = run(docs, queries, make_index)
    # R@1 / R@5 / shown 95.0 / 100.0 / 100.0; each script read as written: 72.5 / 97.5 / 75.0.
    # The misses at rank 1 are the pairs close on purpose (log in with Telegram / Discord).
    assert report.r1 >= 90.0 and report.r5 >= 99.0 and report.shown >= 95.0, report.as_dict()


def test_simplified_text_is_read_as_written() -> None:
    """Taiwan's words are read only in traditional text: in the mainland's own text "程序" stays
    a program and "么" a question particle (OpenCC's Taiwan tables would make them 进程 and 幺)."""
    for text in ("怎么手动安装驱动程序啊", "我的配置能玩刺客信条么", "梦幻西游序列号有什么用"):
        assert normalize(text) == text
    assert normalize("這個程式一直佔用記憶體") == "这个程序一直占用内存"
    assert normalize("應用程式常常閃退") == normalize("应用程序常常闪退")


def test_new_document_is_found_at_once() -> None:
    index = make_board()
    index.add(99, "Allow custom emoji reactions in threads")
    assert top(index, "custom emoji reactions for threads") == 99
    assert len(index) == len(BOARD) + 1


def test_re_add_replaces_the_text() -> None:
    index = make_board()
    index.add(1, "Mute notifications during the night")
    assert len(index) == len(BOARD)
    assert top(index, "mute notifications at night") == 1
    assert 1 not in [d for d, _ in index.query("Export chat history as CSV", k=5)]


def test_remove_forgets_and_ignores_unknown_ids() -> None:
    index = make_board()
    index.remove(0)
    index.remove(12345)
    assert len(index) == len(BOARD) - 1
    assert 0 not in [d for d, _ in index.query("Please add dark mode to the settings page", k=10)]


def test_exclude_skips_ids() -> None:
    index = make_board()
    hits = index.query("Please add dark mode to the settings page", k=3, exclude=[0])
    assert hits and all(d != 0 for d, _ in hits)


def test_scores_are_sorted_and_in_range() -> None:
    index = make_board(300)
    for text in [*BOARD, "dark", "模式", "completely unrelated words here", "?!"]:
        hits = index.query(text, k=10)
        scores = [s for _, s in hits]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert len(hits) <= 10


def test_identical_text_scores_one() -> None:
    index = make_board(100)
    for i, text in enumerate(BOARD):
        doc, score = index.query(text, k=1)[0]
        assert doc == i
        assert score > 0.999


def test_threshold_separates_paraphrase_from_unrelated() -> None:
    index = make_board(500)
    pairs = [
        ("Please add a dark mode to the settings page", 0),
        ("能否支持导出聊天记录？", 5),
        ("排行榜能不能每月重置", 6),
    ]
    for text, expected in pairs:
        doc, score = index.query(text, k=1)[0]
        assert doc == expected
        assert score >= LIKELY_DUPLICATE, (text, score)
    for text in ["How do I change my avatar colour", "今天天气怎么样"]:
        hits = index.query(text, k=1)
        assert not hits or hits[0][1] < RELATED, (text, hits)


def test_new_board_with_one_suggestion() -> None:
    index = DedupIndex()
    index.add(1, "Dark mode for the app\nThe white screen hurts at night")
    hits = index.query("Add a dark theme\nNight mode please")
    assert [d for d, _ in hits] == [1]
    assert hits[0][1] >= RELATED
    assert index.query("Weekly report chart\nshow votes per week") == []


def test_empty_cases() -> None:
    index = DedupIndex()
    assert index.query("anything") == []
    index.add(1, "hello world feature")
    assert index.query("", k=5) == []
    assert index.query("!!! ???", k=5) == []
    assert index.query("feature", k=0) == []
    index.add(2, "")
    assert len(index) == 2
    assert [d for d, _ in index.query("hello world feature")] == [1]


def test_many_removals_compact_and_keep_working() -> None:
    index = DedupIndex()
    texts = list(board(3000, seed=11))
    for i, text in enumerate(texts):
        index.add(i, text)
    for i in range(0, 2900):
        index.remove(i)
    assert len(index) == 100
    for i in range(2900, 3000):
        hits = index.query(texts[i], k=3)
        assert hits and hits[0][1] > 0.999
        assert all(d >= 2900 for d, _ in hits)
    index.add(5, texts[5])
    assert index.query(texts[5], k=1)[0][0] in {
        5,
        *(d for d in range(2900, 3000) if texts[d] == texts[5]),
    }
