"""`fanloop bench outbox` stores a burst of keyed notifications exactly once, on both databases."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from tests.conftest import PG_URL


def test_bench_outbox(db_kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bench", "outbox", "--messages", "2500", "--baseline-max", "60", "--json"]
    if db_kind == "postgresql":
        args += ["--db", PG_URL]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["database"] == ("PostgreSQL" if db_kind == "postgresql" else "SQLite")
    assert out["added"] == 2500 and out["again_added"] == 0
    assert out["stored"] == 2500 + 60 and out["ok"] is True
    assert out["per_s"] > 0 and out["baseline_per_s"] > 0
