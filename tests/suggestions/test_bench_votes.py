"""`fanloop bench votes` runs the core vote path end to end and counts every vote."""

from __future__ import annotations

import json

import pytest

from bot.cli import main as fanloop
from tests.conftest import PG_URL


def test_bench_votes_counts_every_vote(db_kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", PG_URL] if db_kind == "postgresql" else []
    assert fanloop(["bench", "votes", "--members", "12", "--concurrency", "4", "--json", *db]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["database"] == ("PostgreSQL" if db_kind == "postgresql" else "SQLite")
    assert [r["round"] for r in result["rounds"]] == [
        "new members press",
        "members press",
        "members reply +1",
    ]
    for r in result["rounds"]:
        assert r["votes"] == r["presses"] == 12
        assert r["per_s"] > 0 and r["transactions"] > 0 and r["statements"] >= r["transactions"]
        assert 1 <= r["writing"] <= r["transactions"]
    assert result["votes_ok"]
