"""The public pages: opt-in per community, board, suggestion, roadmap, changelog, their JSON,
languages, caching headers, privacy and escaping."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.core.app import App
from bot.core.commands import Role
from cogs.suggestions.service import SuggestionService
from cogs.weekly.service import WeeklyService
from tests.helpers import member

Client = TestClient[web.Request, web.Application]


class Text(HTMLParser):
    """The visible text of a page, and its elements, as a browser's parser reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ("style", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def parse(html: str) -> Text:
    p = Text()
    p.feed(html)
    return p


async def setup_community(app: App, web_value: str = "on") -> tuple[int, Any]:
    owner = await member(app, "Olive", Role.OWNER)
    cid = owner.community.id
    await app.community_settings.set(cid, "web", web_value)
    return cid, owner


async def post(app: App, cid: int, author: int, title: str, details: str = "") -> int:
    svc = app.services.get(SuggestionService)
    sub = await svc.submit(cid, author, title, details, None, force=True)
    assert sub.posted is not None
    return sub.posted.id


async def get(client: Client, path: str, **headers: str) -> tuple[int, str, Any]:
    r = await client.get(path, headers=headers)
    return r.status, await r.text(), r


async def test_off_by_default_and_listed_when_on(app: App, client: Client) -> None:
    owner = await member(app, "Olive", Role.OWNER)
    cid = owner.community.id
    status, html, _ = await get(client, "/")
    assert status == 200 and "/c/" not in html
    assert (await get(client, f"/c/{cid}/"))[0] == 404
    assert (await get(client, f"/c/{cid}/api/board"))[0] == 404
    await app.community_settings.set(cid, "web", "on")
    status, html, _ = await get(client, "/")
    assert f'href="/c/{cid}/"' in html
    assert (await get(client, f"/c/{cid}/"))[0] == 200
    r = await client.get("/api/communities")
    assert (await r.json())["communities"][0]["path"] == f"/c/{cid}"
    await app.community_settings.set(cid, "web", "off")
    assert (await get(client, f"/c/{cid}/"))[0] == 404


async def test_private_community_has_an_unguessable_unlisted_link(app: App, client: Client) -> None:
    cid, _owner = await setup_community(app, "private")
    value = await app.community_settings.get(cid, "web")
    token = value.removeprefix("private:")
    assert len(token) >= 20
    assert (await get(client, f"/c/{cid}/"))[0] == 404
    assert f"/p/{token}" not in (await get(client, "/"))[1]
    status, _html, r = await get(client, f"/p/{token}/")
    assert status == 200
    assert "noindex" in r.headers["X-Robots-Tag"] and r.headers["Cache-Control"].startswith(
        "private"
    )
    assert (await get(client, f"/p/{'x' * len(token)}/"))[0] == 404
    # Setting it again gives a new link; the old one stops working.
    await app.community_settings.set(cid, "web", "private")
    assert (await get(client, f"/p/{token}/"))[0] == 404


async def test_board_sorts_filters_pages_and_json_says_the_same(app: App, client: Client) -> None:
    cid, owner = await setup_community(app)
    svc = app.services.get(SuggestionService)
    ids = [await post(app, cid, owner.member.account_id, f"Idea number {i}") for i in range(30)]
    fans = [await member(app, f"Fan{i}") for i in range(3)]
    for fan in fans:
        await svc.vote(cid, ids[3], fan.member.account_id)
    await svc.set_status(cid, ids[5], "planned", None, owner.member.account_id)

    r = await client.get(f"/c/{cid}/api/board?sort=votes")
    data = await r.json()
    assert data["total"] == 30 and data["pages"] == 2
    assert data["suggestions"][0]["id"] == ids[3] and data["suggestions"][0]["votes"] == 4
    newest = await (await client.get(f"/c/{cid}/api/board?sort=newest&page=2")).json()
    assert [s["id"] for s in newest["suggestions"]] == sorted(ids, reverse=True)[25:]
    planned = await (await client.get(f"/c/{cid}/api/board?status=planned")).json()
    assert [s["id"] for s in planned["suggestions"]] == [ids[5]] and planned["total"] == 1
    status, html, _ = await get(client, f"/c/{cid}/?sort=votes")
    assert status == 200
    text = "".join(parse(html).text)
    assert "Idea number 3" in text and "Page 1 of 2" in text
    assert re.search(rf'href="/c/{cid}/\?[^"]*page=2', html)
    # The hot order puts the fresh votes first too.
    hot = await (await client.get(f"/c/{cid}/api/board")).json()
    assert hot["suggestions"][0]["id"] == ids[3]


async def test_board_search_uses_the_search_engine(app: App, client: Client) -> None:
    cid, owner = await setup_community(app)
    a = await post(app, cid, owner.member.account_id, "Dark mode for the app", "night theme")
    await post(app, cid, owner.member.account_id, "Faster login", "")
    b = await post(app, cid, owner.member.account_id, "支持深色模式", "夜间主题")
    data = await (await client.get(f"/c/{cid}/api/board", params={"q": "dark mode"})).json()
    assert data["suggestions"][0]["id"] == a
    data = await (await client.get(f"/c/{cid}/api/board", params={"q": "深色模式"})).json()
    assert data["suggestions"][0]["id"] == b


async def test_vote_shows_on_the_page(app: App, client: Client) -> None:
    cid, owner = await setup_community(app)
    svc = app.services.get(SuggestionService)
    sid = await post(app, cid, owner.member.account_id, "Widget")
    before = await (await client.get(f"/c/{cid}/api/board")).json()
    assert before["suggestions"][0]["votes"] == 1
    fan = await member(app, "Fan")
    app.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    await svc.vote(cid, sid, fan.member.account_id)
    after = await (await client.get(f"/c/{cid}/api/board")).json()
    assert after["suggestions"][0]["votes"] == 2
    page = await (await client.get(f"/c/{cid}/api/s/{sid}")).json()
    assert page["suggestion"]["votes"] == 2
    assert [p["votes"] for p in page["votes_over_time"]] == [1, 2]
    html = await (await client.get(f"/c/{cid}/s/{sid}")).text()
    assert "<polyline" in html and "Votes over time" in html


async def test_suggestion_page_history_duplicates_and_release(app: App, client: Client) -> None:
    cid, owner = await setup_community(app)
    svc = app.services.get(SuggestionService)
    actor = owner.member.account_id
    orig = await post(app, cid, actor, "Export to CSV", "A button in settings")
    dup = await post(app, cid, actor, "CSV export please")
    await svc.merge(cid, dup, orig, actor)
    await svc.set_status(cid, orig, "in_progress", "Working on it <b>now</b>", actor)
    await svc.set_status(cid, orig, "shipped", None, actor)
    weekly = app.services.get(WeeklyService)
    release = await weekly.record_release(
        cid, "v2.0", app.clock.now().date(), [orig, "Speed"], actor
    )

    data = await (await client.get(f"/c/{cid}/api/s/{orig}")).json()
    assert data["duplicates"] == [{"id": dup, "title": "CSV export please"}]
    assert data["releases"][0]["version"] == "v2.0"
    kinds = [(e["kind"], e["new"]) for e in data["history"]]
    assert kinds == [("created", "new"), ("status", "in_progress"), ("status", "shipped")]
    assert data["history"][1]["note"] == "Working on it <b>now</b>"
    assert data["votes_over_time"] == [{"date": app.clock.now().date().isoformat(), "votes": 1}]
    status, html, _ = await get(client, f"/c/{cid}/s/{orig}")
    assert status == 200
    assert "Working on it &lt;b&gt;now&lt;/b&gt;" in html
    text = "".join(parse(html).text)
    assert "Shipped in" in text and "v2.0" in text and "CSV export please" in text
    dup_page = await (await client.get(f"/c/{cid}/api/s/{dup}")).json()
    assert dup_page["suggestion"]["merged_into"]["id"] == orig

    changelog = await (await client.get(f"/c/{cid}/api/changelog")).json()
    assert changelog["releases"][0]["id"] == release.id
    assert [i["title"] for i in changelog["releases"][0]["items"]] == ["Export to CSV", "Speed"]
    status, html, _ = await get(client, f"/c/{cid}/changelog")
    assert status == 200 and f'href="/c/{cid}/s/{orig}"' in html

    roadmap = await (await client.get(f"/c/{cid}/api/roadmap")).json()
    lanes = {c["status"]: [s["id"] for s in c["suggestions"]] for c in roadmap["columns"]}
    assert lanes == {"planned": [], "in_progress": [], "shipped": [orig]}
    assert (await get(client, f"/c/{cid}/roadmap"))[0] == 200


async def test_hidden_posts_never_shown_and_authors_pseudonymous(app: App, client: Client) -> None:
    cid, owner = await setup_community(app)
    svc = app.services.get(SuggestionService)
    actor = owner.member.account_id
    shown = await post(app, cid, actor, "Visible idea")
    hidden = await post(app, cid, actor, "Secret idea")
    weekly = app.services.get(WeeklyService)
    await weekly.record_release(cid, "v1", app.clock.now().date(), [hidden, shown], actor)
    await svc.set_hidden(cid, hidden, True, actor)
    for path in ("/", "/api/board", "/changelog", "/api/changelog", "/roadmap"):
        _, body, _ = await get(client, f"/c/{cid}{path}")
        assert "Secret idea" not in body, path
    assert (await get(client, f"/c/{cid}/s/{hidden}"))[0] == 404
    assert (await get(client, f"/c/{cid}/api/s/{hidden}"))[0] == 404
    found = await (await client.get(f"/c/{cid}/api/board", params={"q": "Secret idea"})).json()
    assert hidden not in [s["id"] for s in found["suggestions"]]
    # Pseudonymous by default; the display name once the community allows it.
    _, body, _ = await get(client, f"/c/{cid}/s/{shown}")
    assert "Olive" not in body and re.search(r"fan-[0-9a-f]{6}", body)
    await app.community_settings.set(cid, "web_names", "on")
    _, body, _ = await get(client, f"/c/{cid}/s/{shown}")
    assert "Olive" in body


async def test_an_anonymous_suggestion_names_nobody(app: App, client: Client) -> None:
    cid, owner = await setup_community(app)
    await app.community_settings.set(cid, "web_names", "on")
    await app.community_settings.set(cid, "anonymous_suggestions", "on")
    sid = await post(app, cid, owner.member.account_id, "Quiet idea")
    for path in (f"/s/{sid}", f"/api/s/{sid}"):
        status, body, _ = await get(client, f"/c/{cid}{path}")
        assert status == 200 and "Quiet idea" in body
        assert "Olive" not in body and not re.search(r"fan-[0-9a-f]{6}", body), path


HOSTILE = [
    '<script>alert("x")</script>',
    '"><img src=x onerror=alert(1)>',
    "a\u200bb\u200dc\ufeffd",
    "\u202eevil.exe\u202c txt",
    "{{ 7*7 }} {% raw %}",
]


async def test_hostile_titles_render_as_text(app: App, client: Client) -> None:
    cid, owner = await setup_community(app)
    ids = [await post(app, cid, owner.member.account_id, t, t) for t in HOSTILE]
    for path in ["/", "/roadmap", *[f"/s/{sid}" for sid in ids]]:
        status, html, _ = await get(client, f"/c/{cid}{path}")
        assert status == 200
        page = parse(html)
        assert "script" not in page.tags and "img" not in page.tags
        assert "onerror" not in html.replace("onerror=alert(1)&gt;", "")
        assert "49" not in "".join(page.text)
    _, html, _ = await get(client, f"/c/{cid}/s/{ids[0]}")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert HOSTILE[0] in "".join(parse(html).text)
    # Right-to-left overrides stay inside their element (bdi isolates them from the page).
    _, html, _ = await get(client, f"/c/{cid}/s/{ids[3]}")
    assert "<bdi>\u202eevil.exe\u202c txt</bdi>" in html
    _, html, _ = await get(client, f"/c/{cid}/s/{ids[2]}")
    assert "a\u200bb\u200dc\ufeffd" in "".join(parse(html).text)
    data = await (await client.get(f"/c/{cid}/api/s/{ids[0]}")).json()
    assert data["suggestion"]["title"] == HOSTILE[0]


async def test_languages_and_switch(app: App, client: Client) -> None:
    cid, _owner = await setup_community(app)
    _status, html, r = await get(
        client, f"/c/{cid}/", **{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
    )
    assert '<html lang="zh-Hans">' in html and "路线图" in html
    assert "lang=en" in html  # the switch
    assert r.headers["Vary"] == "Accept-Language"
    _, html, _ = await get(client, f"/c/{cid}/?lang=en", **{"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in html and "Roadmap" in html
    # A chosen language is kept in the page's links.
    assert f'href="/c/{cid}/roadmap?lang=en"' in html
    _, html, _ = await get(client, f"/c/{cid}/", **{"Accept-Language": "fr, en;q=0.1"})
    assert '<html lang="en">' in html
    await app.community_settings.set(cid, "language", "zh_cn")
    _, html, _ = await get(client, f"/c/{cid}/roadmap", **{"Accept-Language": "de"})
    assert '<html lang="zh-Hans">' in html
    # Traditional Chinese for Taiwan and Hong Kong; from English, the switch goes back to it.
    _, html, _ = await get(client, f"/c/{cid}/", **{"Accept-Language": "zh-TW,en;q=0.5"})
    assert '<html lang="zh-Hant">' in html and "路線圖" in html
    _, html, _ = await get(client, f"/c/{cid}/?lang=en", **{"Accept-Language": "zh-HK,en;q=0.5"})
    assert 'lang=zh_TW"' in html and 'hreflang="zh-Hant"' in html


async def test_caching_headers_and_not_modified(app: App, client: Client) -> None:
    cid, owner = await setup_community(app)
    await post(app, cid, owner.member.account_id, "Cache me")
    r = await client.get(f"/c/{cid}/")
    assert r.headers["Cache-Control"] == "public, max-age=5"
    etag = r.headers["ETag"]
    again = await client.get(f"/c/{cid}/", headers={"If-None-Match": etag})
    assert again.status == 304
    api = await client.get(f"/c/{cid}/api/board")
    assert api.headers["ETag"] != etag and api.headers["Content-Type"].startswith(
        "application/json"
    )
    await post(app, cid, owner.member.account_id, "Something new")
    changed = await client.get(f"/c/{cid}/", headers={"If-None-Match": etag})
    assert changed.status == 200
    assert (await client.get("/c/999999/")).headers["Cache-Control"] == "no-store"


async def test_console_end_to_end_settings_suggest_vote(app: App, client: Client) -> None:
    """An owner turns the page on in chat; a fan's post and vote show on it; a fan may not
    change the setting; `private` answers with the new link's token."""
    from bot.adapters.console import ConsoleAdapter

    console = ConsoleAdapter(app)
    said = await console.handle_line("/settings web on")
    assert "web" in said[0].reply.plain_text()
    cid = (await console.context()).community.id
    await console.handle_line("/as alice fan")
    await console.handle_line('/suggest "Offline maps" "download a city"')
    await console.handle_line("/as bob fan")
    await console.handle_line("/vote 1")
    data = await (await client.get(f"/c/{cid}/api/board")).json()
    assert [(s["title"], s["votes"]) for s in data["suggestions"]] == [("Offline maps", 2)]
    refused = await console.handle_line("/settings web off")
    assert refused and (await get(client, f"/c/{cid}/"))[0] == 200
    await console.handle_line("/as you")
    said = await console.handle_line("/settings web private")
    token = re.search(r"private:([A-Za-z0-9_-]+)", said[0].reply.plain_text())
    assert token is not None
    assert (await get(client, f"/c/{cid}/"))[0] == 404
    assert (await get(client, f"/p/{token.group(1)}/"))[0] == 200


async def test_board_ranks_as_top_does(app: App) -> None:
    """The web's light ranking (`SuggestionService.board`) is /top's order and heat."""
    owner = await member(app, "Olive", Role.OWNER)
    cid = owner.community.id
    svc = app.services.get(SuggestionService)
    ids = [await post(app, cid, owner.member.account_id, f"Idea {i}") for i in range(8)]
    fans = [await member(app, f"Fan{i}") for i in range(6)]
    for day, (i, fan) in enumerate([(2, 0), (2, 1), (5, 2), (1, 3), (5, 4), (7, 5), (2, 5)]):
        app.clock.advance(timedelta(days=day))  # type: ignore[attr-defined]
        await svc.vote(cid, ids[i], fans[fan].member.account_id)
    await svc.set_status(cid, ids[0], "shipped", None, owner.member.account_id)
    half = timedelta(days=7)
    top = await svc.top(cid, half, limit=100)
    board = await svc.board(cid, half)
    assert [e.id for e, _ in board] == [r.id for r, _ in top]
    for (_, a), (_, b) in zip(board, top, strict=True):
        assert abs(a - b) < 1e-9


async def test_base_url_gives_the_public_address(app: App, client: Client) -> None:
    cid, _owner = await setup_community(app)
    app.settings.web_base_url = "https://fans.example"
    data = await (await client.get(f"/c/{cid}/api/roadmap")).json()
    assert data["community"]["url"] == f"https://fans.example/c/{cid}/"
    html = await (await client.get(f"/c/{cid}/roadmap")).text()
    assert f'<link rel="canonical" href="https://fans.example/c/{cid}/roadmap">' in html
