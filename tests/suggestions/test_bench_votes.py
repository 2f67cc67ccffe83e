"""`fanloop bench votes` runs the core vote path end to end and counts every vote."""

from __future__ import annotations

import json
from pathlib import Path

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
    if db_kind == "sqlite":
        assert (before["transactions"], before["writing"]) == (2, 1)
    else:  # and the shared rate limit's check: one autocommitted statement per batch of presses
        assert 2 < before["transactions"] <= 3 and before["writing"] == 1
    assert result["votes_ok"] and result["speedup"] > 0
    # The first round against new members created one transaction each, in the same run.
    new_before = result["baseline_new"]
    assert new_before["round"] == "before: new members press"
    assert new_before["votes"] == new_before["presses"] == 5
    assert new_before["writing"] >= 1  # each new member's own transaction, at least
    new = result["new_members"]
    assert new["per_s"] == result["rounds"][0]["per_s"]
    assert new["baseline_cpu_ms"] == new_before["cpu_ms"] and new["cpu_ratio"] > 0
    assert all("load_avg" in r for r in [*result["rounds"], before, new_before])


def test_bench_votes_with_a_model_presses_while_suggestions_are_posted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tests.dedup.conftest import save_tiny_model

    model = save_tiny_model(tmp_path / "model")
    args = ["--members", "12", "--concurrency", "4", "--baseline-members", "5"]
    assert fanloop(["bench", "votes", *args, "--model", str(model), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    posting = result["posting"]
    assert posting["round"] == "members press, posts"
    assert posting["votes"] == posting["presses"] == 12 and result["votes_ok"]
    assert posting["posted"] >= 1 and result["model"] == str(model)
    assert fanloop(["bench", "votes", *args, "--model", str(model)]) == 0
    assert "suggestions were posted" in capsys.readouterr().out
