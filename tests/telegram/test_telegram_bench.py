"""The benchmark's own correctness: concurrent presses by distinct members all count, once,
with the local server in its own process (the default) and inline."""

from __future__ import annotations

import pytest

from devtools.bench.telegram import run_adapter


@pytest.mark.parametrize("server", ["process", "inline"])
async def test_concurrent_presses_all_count_once(server: str) -> None:
    result = await run_adapter(updates=40, concurrency=8, burst=20, server=server)
    assert result["answered"] == 40
    assert result["votes"] == 40
    assert result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
