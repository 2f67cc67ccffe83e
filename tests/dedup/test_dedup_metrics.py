"""Retrieval metrics and the evaluation runner on a tiny hand-made set."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pytest

from devtools.similarity.evaluate import evaluate, load, metrics, percentile, ranks, run


def test_ranks_and_metrics_by_hand() -> None:
    assert ranks([7, 3, 9], frozenset({9})) == 3
    assert ranks([7, 3], frozenset({1})) is None
    # First duplicate at rank 1, 3, 6, 12 (outside the top 10) and never.
    r1, r5, mrr = metrics([1, 3, 6, 12, None])
    assert r1 == pytest.approx(20.0)
    assert r5 == pytest.approx(40.0)
    assert mrr == pytest.approx(100.0 * (1 + 1 / 3 + 1 / 6) / 5)
    assert metrics([]) == (0.0, 0.0, 0.0)


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([4.0], 0.99) == 4.0
    assert percentile([], 0.5) == 0.0


def write_set(tmp_path: Path) -> tuple[Path, Path]:
    corpus = [
        {"id": "a", "text": "Please add dark mode"},
        {"id": "b", "text": "Dark mode for the app please"},
        {"id": "c", "text": "Export chat history"},
        {"id": "d", "text": "导出聊天记录"},
        {"id": "e", "text": "能不能导出聊天记录？"},
        {"id": "f", "text": "Weekly report chart"},
    ]
    queries = [
        {"id": "a", "text": "Please add dark mode", "duplicates": ["b"]},
        {"id": "d", "text": "导出聊天记录", "duplicates": ["e"]},
        {"id": "f", "text": "Weekly report chart", "duplicates": ["c"]},
    ]
    cpath, qpath = tmp_path / "corpus.jsonl", tmp_path / "queries.jsonl"
    cpath.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in corpus) + "\n", "utf-8")
    qpath.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in queries), "utf-8")
    return cpath, qpath


def test_evaluate_tiny_set(tmp_path: Path) -> None:
    report = evaluate(*write_set(tmp_path))
    # Two queries find their duplicate first; the third has no shared word with it.
    assert report.queries == 3
    assert report.r1 == pytest.approx(200 / 3)
    assert report.r5 == pytest.approx(200 / 3)
    assert report.mrr10 == pytest.approx(200 / 3)
    assert report.build_s >= 0 and report.p99_ms >= report.p50_ms >= 0
    assert set(report.as_dict()) >= {"r1", "r5", "mrr10", "build_s", "p50_ms", "p99_ms"}


def test_own_id_is_excluded(tmp_path: Path) -> None:
    docs, queries = load(*write_set(tmp_path))
    seen: list[tuple[str, tuple[int, ...]]] = []

    class Spy:
        def add(self, doc_id: int, text: str) -> None: ...
        def add_many(self, docs: Iterable[tuple[int, str]]) -> None: ...
        def remove(self, doc_id: int) -> None: ...
        def __len__(self) -> int:
            return 0

        def query(
            self, text: str, k: int = 5, exclude: Iterable[int] = ()
        ) -> list[tuple[int, float]]:
            seen.append((text, tuple(exclude)))
            return []

    report = run(docs, queries, Spy)
    assert report.r5 == 0.0
    assert [e for _, e in seen] == [(q.doc_id,) for q in queries]


def test_shown_counts_what_the_submission_step_would_list(tmp_path: Path) -> None:
    """A duplicate counts as shown among the first three results at RELATED or above; the
    other posts listed with it are counted apart."""
    from cogs.suggestions.similarity import RELATED

    docs, queries = load(*write_set(tmp_path))
    answers = {
        0: [(1, 0.9), (2, 0.3), (3, 0.1)],  # the duplicate first, one other post listed
        3: [(2, 0.6), (5, 0.4), (0, 0.3), (4, 0.9)],  # the duplicate fourth: not shown
        5: [(2, RELATED - 0.01), (1, 0.2)],  # the duplicate first but under RELATED
    }

    class Fixed:
        def add(self, doc_id: int, text: str) -> None: ...
        def add_many(self, docs: Iterable[tuple[int, str]]) -> None: ...
        def remove(self, doc_id: int) -> None: ...
        def __len__(self) -> int:
            return len(docs)

        def query(
            self, text: str, k: int = 5, exclude: Iterable[int] = ()
        ) -> list[tuple[int, float]]:
            return answers[next(iter(exclude))]

    report = run(docs, queries, Fixed)
    assert report.r1 == pytest.approx(200 / 3)
    assert report.shown == pytest.approx(100 / 3)
    assert report.others_shown == pytest.approx((1 + 3) / 3)
    assert {"shown", "others_shown"} <= report.as_dict().keys()


def test_load_rejects_bad_rows(tmp_path: Path) -> None:
    cpath, qpath = write_set(tmp_path)
    qpath.write_text(json.dumps({"id": "zz", "text": "x", "duplicates": []}), "utf-8")
    with pytest.raises(ValueError):
        load(cpath, qpath)
    cpath.write_text("[1, 2]\n", "utf-8")
    with pytest.raises(ValueError):
        load(cpath, qpath)
