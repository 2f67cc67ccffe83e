"""The four-grid reports page: posted results only, hidden suggestions left out."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.core.app import App
from bot.core.commands import Role
from cogs.suggestions.service import SuggestionService
from tests.weekly.weekly_helpers import member, open_report, release, suggestion, weekly

Client = TestClient[web.Request, web.Application]


async def test_reports_page_shows_posted_results(app: App, client: Client) -> None:
    admin = await member(app, "Olive", Role.OWNER)
    cid = admin.community.id
    await app.community_settings.set(cid, "web", "on")
    shown = await suggestion(app, admin, "Dark mode")
    hidden = await suggestion(app, admin, "Secret thing")
    row = await release(app, admin, "v3", [shown, hidden, "Faster start"])
    report = await open_report(app, row, admin)
    items = await weekly(app).items(row.id)
    fans = [await member(app, f"Fan{i}") for i in range(3)]
    for fan in fans:
        for item in items:
            await weekly(app).cast(cid, report.id, item.id, fan.member.account_id, 0)
    await app.services.get(SuggestionService).set_hidden(cid, hidden, True, admin.member.account_id)

    empty = await (await client.get(f"/c/{cid}/api/reports")).json()
    assert empty["reports"] == []  # open, results not posted: nothing yet
    await weekly(app).close(report)
    await weekly(app).reports.mark_published(report.id, None, app.clock.now())

    data = await (await client.get(f"/c/{cid}/api/reports")).json()
    [rep] = data["reports"]
    assert rep["turnout"] == 3 and rep["release"]["version"] == "v3"
    assert {r["title"] for r in rep["ranking"]} == {"Dark mode", "Faster start"}
    assert rep["ranking"][0]["counts"] == [3, 0, 0, 0]
    r = await client.get(f"/c/{cid}/reports", headers={"Accept-Language": "zh-CN"})
    html = await r.text()
    assert r.status == 200 and "四格报告" in html and "Secret thing" not in html
    assert "<svg" in html and "Dark mode" in html
