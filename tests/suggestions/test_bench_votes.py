"""`fanloop bench votes` runs the core vote path end to end and counts every vote."""

from __future__ import annotations

import json

import pytest

from bot.cli import main as fanloop
from tests.conftest import PG_URL


def test_bench_votes_counts_every_vote(db_kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", PG_URL] if db_kind == "postgresql" else []
    args = ["--members", "12", "--concurrency", "4", "--baseline-members", "5", "--json"]
    assert fanloop(["bench", "votes", *args, *db]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["database"] == ("PostgreSQL" if db_kind == "postgresql" else "SQLite")
    assert [r["round"] for r in result["rounds"]] == [
        "new members press",
        "members press",
        "members press again",
        "members reply +1",
    ]
    for r in result["rounds"]:
        assert r["votes"] == r["presses"] == 12  # "again" took no vote back
        assert r["per_s"] > 0 and r["cpu_ms"] > 0
        assert r["statements"] >= r["transactions"] > 0 or r["round"] != "new members press"
    before = result["baseline"]
    assert before["round"] == "before: members press"
    assert before["votes"] == before["presses"] == 5
    assert (before["transactions"], before["writing"]) == (2, 1)
    assert result["votes_ok"] and result["speedup"] > 0
