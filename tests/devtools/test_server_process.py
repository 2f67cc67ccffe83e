"""The benchmarks' local servers in a child process: listening when the port arrives, gone when
the block ends."""

from __future__ import annotations

import multiprocessing

import aiohttp
import pytest

from devtools.servers.process import Kind, local_server


@pytest.mark.parametrize(
    ("kind", "probe"), [("discord", "/_fake/burst"), ("telegram", "/_fake/sent")]
)
async def test_the_child_serves_then_stops(kind: Kind, probe: str) -> None:
    async with local_server(kind, "process") as port:
        (child,) = [p for p in multiprocessing.active_children() if p.name == f"local-{kind}"]
        url = f"http://127.0.0.1:{port}{probe}"
        async with aiohttp.ClientSession() as http, http.get(url) as r:
            assert r.status == 200
    assert not child.is_alive()
