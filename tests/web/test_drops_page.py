"""The drops pages: live counts, the seed only after the draw, the draw verified."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App

Client = TestClient[web.Request, web.Application]


async def test_lottery_drop_page(app: App, client: Client) -> None:
    console = ConsoleAdapter(app)
    await console.handle_line("/settings web on")
    cid = (await console.context()).community.id
    await console.handle_line(
        '/drop create "Phone <b>17</b>" 3 "2026-11-21 09:00" lottery opens="2026-11-20 10:00" '
        'closes="2026-11-21 08:00"'
    )
    await console.handle_line("/advance 1h")
    for i in range(8):
        await console.handle_line(f"/as fan{i} fan")
        await console.handle_line("/reserve 1")
    before = await (await client.get(f"/c/{cid}/api/drops/1")).json()
    drop = before["drop"]
    assert (drop["reservations"], drop["remaining"], drop["quota"]) == (8, 3, 3)
    assert len(drop["lottery"]["commitment"]) == 64 and drop["lottery"]["seed"] is None
    assert before["verification"] is None and before["entrants"] == []
    html = await (await client.get(f"/c/{cid}/drops")).text()
    assert "Phone &lt;b&gt;17&lt;/b&gt;" in html and "8 reservations" in html

    await console.handle_line("/advance 1d")
    after = await (await client.get(f"/c/{cid}/api/drops/1")).json()
    assert len(after["drop"]["lottery"]["seed"]) == 64
    assert after["verification"]["ok"] is True
    assert len(after["entrants"]) == 8 and sum(e["won"] for e in after["entrants"]) == 3
    assert all(e["handle"].startswith("fan-") for e in after["entrants"])
    r = await client.get(f"/c/{cid}/drops/1", headers={"Accept-Language": "zh-CN"})
    page = await r.text()
    assert (
        r.status == 200 and "抽签结果验证通过" in page and after["drop"]["lottery"]["seed"] in page
    )
    assert (await client.get(f"/c/{cid}/drops/99")).status == 404
