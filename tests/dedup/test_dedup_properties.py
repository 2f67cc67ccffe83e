"""Invariants of the index under arbitrary texts."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cogs.suggestions.similarity.dedup_index import DedupIndex
from cogs.suggestions.similarity.text import normalize
from devtools.similarity.synthetic import board

BASE = list(board(150, seed=5))
QUERIES = [BASE[3], BASE[40], "dark mode please", "希望增加夜间模式", "导出 CSV"]

texts = st.text(
    alphabet=st.sampled_from(list("abc xyz 夜间模式导出聊天记录？!,.12")), min_size=0, max_size=40
)


def fresh() -> DedupIndex:
    index = DedupIndex()
    for i, text in enumerate(BASE):
        index.add(i, text)
    return index


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extra=st.lists(texts, min_size=1, max_size=5))
def test_add_then_remove_restores_results(extra: list[str]) -> None:
    index = fresh()
    before = [index.query(q, k=5) for q in QUERIES]
    for j, text in enumerate(extra):
        index.add(10_000 + j, text)
    for j in range(len(extra)):
        index.remove(10_000 + j)
    after = [index.query(q, k=5) for q in QUERIES]
    assert len(index) == len(BASE)
    for b, a in zip(before, after, strict=True):
        assert [d for d, _ in a] == [d for d, _ in b]
        assert all(abs(x - y) < 1e-9 for (_, x), (_, y) in zip(a, b, strict=True))


@settings(max_examples=60, deadline=None)
@given(text=texts, k=st.integers(min_value=1, max_value=8))
def test_results_are_bounded_sorted_and_unique(text: str, k: int) -> None:
    index = fresh()
    hits = index.query(text, k=k, exclude=[3])
    ids = [d for d, _ in hits]
    assert len(hits) <= k
    assert len(set(ids)) == len(ids)
    assert 3 not in ids
    assert all(0.0 <= s <= 1.0 for _, s in hits)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)


# Simplified and traditional characters, Taiwan's words among them (設定, 軟體, 程式, 影片), and
# characters OpenCC reads differently in the two scripts (么/麼/幺, 干/乾/幹, 后/後).
scripts = st.text(
    alphabet=st.sampled_from(list("设定置頁页面支援持軟软體体件程式序影片视频么麼幺干乾幹后後 a?")),
    min_size=0,
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(text=scripts)
def test_normalizing_again_changes_nothing(text: str) -> None:
    """A normalised text is in one script already: what is indexed and what is asked are read
    the same way, however often a text goes through."""
    once = normalize(text)
    assert normalize(once) == once
