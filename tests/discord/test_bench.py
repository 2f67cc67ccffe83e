"""`fanloop bench discord` runs end to end (its figures are printed, never asserted)."""

from __future__ import annotations

import json

import pytest

from bot.cli import build_parser


@pytest.mark.parametrize("server", ["process", "inline"])
def test_bench_discord_reports_every_vote(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(
        ["bench", "discord", "--interactions", "20", "--server", server, "--json"]
    )
    status = args.func(args)
    result = json.loads(capsys.readouterr().out)
    assert result["server"] == server
    assert {"interactions", "per_s", "p50_ms", "p99_ms", "max_ms", "votes"} <= result.keys()
    assert result["interactions"] == result["members"] == 20
    assert result["votes"] == result["acknowledged"] == 20 - result["late"]
    assert result["baseline_votes"] == 20
    assert status == (0 if result["late"] == 0 else 1)
