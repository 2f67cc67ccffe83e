"""Live counts on a drop's page: a static script from the site itself (no inline script), allowed
by the Content-Security-Policy, which reads the page's JSON twin; the page works without it."""

from __future__ import annotations

import re

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App

Client = TestClient[web.Request, web.Application]

CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; "
    "style-src 'unsafe-inline'; img-src 'self'"
)


async def test_the_script_is_served_with_its_type_and_the_policy(client: Client) -> None:
    r = await client.get("/static/live.js")
    assert r.status == 200
    assert r.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert r.headers["Content-Security-Policy"] == CSP
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    body = await r.text()
    assert "data-live-field" in body and "fetch" in body
    again = await client.get("/static/live.js", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status == 304


async def test_the_drop_page_names_the_script_and_its_json_has_the_fields(
    app: App, client: Client
) -> None:
    console = ConsoleAdapter(app)
    await console.handle_line("/settings web on")
    cid = (await console.context()).community.id
    await console.handle_line('/drop create Phone 3 "2026-11-21 09:00" flash')
    for i in range(2):
        await console.handle_line(f"/as fan{i} fan")
        await console.handle_line("/reserve 1")

    r = await client.get(f"/c/{cid}/drops/1")
    html = await r.text()
    assert r.headers["Content-Security-Policy"] == CSP
    assert '<script src="/static/live.js" defer></script>' in html
    assert re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S) == [""]  # nothing inline
    assert f'data-live="/c/{cid}/api/drops/1"' in html
    # Without the script the numbers are there; with it they are the elements it updates.
    assert '<span data-live-field="drop.reservations">2</span> reservations' in html
    assert '<span data-live-field="drop.remaining">3</span> left' in html

    data = await (await client.get(f"/c/{cid}/api/drops/1")).json()
    assert (data["drop"]["reservations"], data["drop"]["remaining"]) == (2, 3)

    # The drops list stays plain (no script on it).
    listing = await (await client.get(f"/c/{cid}/drops")).text()
    assert "<script" not in listing and "2 reservations" in listing


async def test_a_private_drop_page_polls_its_own_address(app: App, client: Client) -> None:
    console = ConsoleAdapter(app)
    await console.handle_line("/settings web private")
    cid = (await console.context()).community.id
    token = str(await app.community_settings.get(cid, "web")).removeprefix("private:")
    await console.handle_line('/drop create Phone 3 "2026-11-21 09:00" flash')
    html = await (await client.get(f"/p/{token}/drops/1")).text()
    assert f'data-live="/p/{token}/api/drops/1"' in html
    assert (await client.get(f"/p/{token}/api/drops/1")).status == 200
