"""The benchmark's own correctness: concurrent presses by distinct members all count, once."""

from __future__ import annotations

from devtools.bench.telegram import run_adapter


async def test_concurrent_presses_all_count_once() -> None:
    result = await run_adapter(updates=40, concurrency=8, burst=20)
    assert result["answered"] == 40
    assert result["votes"] == 40
    assert result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
