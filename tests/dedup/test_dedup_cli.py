"""`fanloop dedup-eval` and `fanloop bench dedup` through the command-line entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

EXPECTED_KEYS = {"r1", "r5", "mrr10", "build_s", "p50_ms", "p99_ms"}


def write_set(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "corpus.jsonl"
    queries = tmp_path / "queries.jsonl"
    corpus.write_text(
        '{"id": "1", "text": "Please add dark mode"}\n'
        '{"id": "2", "text": "Dark mode for the app please"}\n'
        '{"id": "3", "text": "希望增加夜间模式"}\n'
        '{"id": "4", "text": "能不能加个夜间模式"}\n',
        "utf-8",
    )
    queries.write_text(
        '{"id": "1", "text": "Please add dark mode", "duplicates": ["2"]}\n'
        '{"id": "3", "text": "希望增加夜间模式", "duplicates": ["4"]}\n',
        "utf-8",
    )
    return corpus, queries


def test_dedup_eval_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus, queries = write_set(tmp_path)
    assert main(["dedup-eval", "--corpus", str(corpus), "--queries", str(queries), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= EXPECTED_KEYS
    assert out["r1"] == 100.0 and out["r5"] == 100.0 and out["mrr10"] == 100.0


def test_dedup_eval_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus, queries = write_set(tmp_path)
    assert main(["dedup-eval", "--corpus", str(corpus), "--queries", str(queries)]) == 0
    out = capsys.readouterr().out
    for label in ("R@1", "R@5", "MRR@10", "index build", "p50", "p99"):
        assert label in out


def test_dedup_eval_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["dedup-eval", "--corpus", str(tmp_path / "no.jsonl"), "--queries", "x.jsonl"])
    assert code == 2
    assert "dedup-eval" in capsys.readouterr().err


def test_bench_dedup_small(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "dedup", "--size", "600", "--queries", "50", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["engine"]["size"] == 600 and out["engine"]["queries"] == 50
    assert out["baseline"]["name"] == "lexical-baseline"
    assert out["engine"]["p99_ms"] >= out["engine"]["p50_ms"] > 0
    assert out["peak_rss_mb"] > 0
    assert (
        main(["bench", "dedup", "--size", "300", "--queries", "20", "--baseline-size", "100"]) == 0
    )
    text = capsys.readouterr().out
    assert "run on 100 texts, not 300" in text and "p99" in text
