"""`fanloop bench drops` runs the real engine and the naive baseline and reports the figures."""

from __future__ import annotations

import json

import pytest

from bot.cli import main as fanloop
from tests.conftest import PG_URL


def test_bench_reports_a_clean_burst(db_kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", PG_URL] if db_kind == "postgresql" else []
    args = ["bench", "drops", "--quota", "60", "--reservers", "500", "--naive-max", "250"]
    assert fanloop([*args, "--concurrency", "50", "--json", *db]) == 0
    stats = json.loads(capsys.readouterr().out)
    for key in (
        "attempts", "winners", "oversold", "duplicate_winners", "claims_per_s",
        "naive_claims_per_s", "p50_ms", "p99_ms", "peak_rss_mb",
    ):  # fmt: skip
        assert key in stats
    assert stats["db"] == db_kind
    assert stats["attempts"] == 500 and stats["winners"] == 60
    assert stats["oversold"] == 0 and stats["duplicate_winners"] == 0 and stats["lost_wins"] == 0
    # The baseline ran on a copy scaled to --naive-max, with the same proportions.
    assert stats["naive_scale"] == 2 and stats["naive_attempts"] == 250
    assert stats["naive_oversold"] == 0
    assert stats["claims_per_s"] > 0 and stats["naive_claims_per_s"] > 0
    # Every winner's private message with the code was stored with the win.
    assert stats["win_messages"] == 60 and stats["winners_without_message"] == 0


def test_bench_reserve_burst(db_kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", PG_URL] if db_kind == "postgresql" else []
    args = ["bench", "drops", "--scenario", "reserve", "--reservers", "300", "--naive-max", "50"]
    assert fanloop([*args, "--concurrency", "40", "--json", *db]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["db"] == db_kind and stats["scenario"] == "reserve"
    assert stats["reserve_presses"] == 330  # one in ten pressed twice
    assert stats["reserve_reserved"] == stats["reserve_told_made"] == 300
    assert stats["duplicates"] == 0
    assert stats["naive_reserved"] == 50 and stats["reserve_per_s"] > 0
