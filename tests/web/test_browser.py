"""The public pages in a real browser: headless Chromium from the system's packages, driven by
Selenium through the system's chromedriver (nothing is downloaded at run time).

The site runs on a real aiohttp server on 127.0.0.1 (an unused port) over a seeded community;
a fan's pages (board, suggestion, roadmap, changelog, four-grid reports, drops) are opened in
English and Simplified Chinese, the language switch is followed, and a screenshot of each page
is kept under `tests/artifacts/browser/` (or `$FANLOOP_TEST_ARTIFACTS/browser/`).

The pages read the database on every request here (`check_every=0`), so a vote, a merge, a
release or a reservation made through the services shows on the next reload, without waiting;
served for real, the site rereads at most every 2 seconds.

SQLite only: the pages' reads are tested on both databases in the other tests of this folder;
PostgreSQL would double the browser time and test nothing more.

Without Chromium, chromedriver or selenium these tests are skipped, except in CI (`CI=true` or
`FANLOOP_TEST_REQUIRE_BROWSER=1`, which `.ci/run` sets), where they fail.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App
from bot.core.commands import Role
from bot.core.i18n import Translator
from bot.web.site import routes
from cogs.suggestions.service import SuggestionService
from tests.helpers import artifacts_dir
from tests.weekly.weekly_helpers import member, open_report, release, suggestion, weekly

CHROMIUM = os.environ.get("FANLOOP_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("FANLOOP_CHROMEDRIVER", "/usr/bin/chromedriver")
REQUIRED = (
    os.environ.get("CI", "").lower() == "true"
    or os.environ.get("FANLOOP_TEST_REQUIRE_BROWSER") == "1"
)
ARTIFACTS = artifacts_dir("browser")


def _missing() -> list[str]:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if importlib.util.find_spec("selenium") is None:
        missing.append("the selenium package")
    return missing


@pytest.fixture(scope="module", autouse=True)
def _browser_available() -> None:
    missing = _missing()
    if not missing:
        return
    why = f"a real browser is needed: {', '.join(missing)} not found"
    if REQUIRED:
        pytest.fail(f"{why} (`.ci/run` installs chromium and chromium-driver)")
    pytest.skip(f"{why}; `apt-get install chromium chromium-driver` to run these tests")


@pytest.fixture
def db_kind() -> str:
    return "sqlite"


T = Translator()
T.load_package("bot.web.site")
LANGS = {"en": "en-US,en", "zh_CN": "zh-CN,zh"}  # the browser's Accept-Language


class Browser:
    """One headless Chromium; its calls run in a thread so the server keeps answering."""

    def __init__(self, accept_language: str) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--window-size=1280,1000",
            "--no-first-run",
        ):
            options.add_argument(arg)
        options.add_experimental_option("prefs", {"intl.accept_languages": accept_language})
        # An explicit driver path: Selenium Manager is not asked to find or download one.
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.base = ""

    def quit(self) -> None:
        self.driver.quit()

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    async def open(self, path: str) -> None:
        await self._run(self.driver.get, self.base + path)

    async def reload(self) -> None:
        await self._run(self.driver.refresh)

    async def text(self, css: str = "body") -> str:
        from selenium.webdriver.common.by import By

        return str(await self._run(lambda: self.driver.find_element(By.CSS_SELECTOR, css).text))

    async def texts(self, css: str) -> list[str]:
        from selenium.webdriver.common.by import By

        def read() -> list[str]:
            return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, css)]

        return list(await self._run(read))

    async def attr(self, css: str, name: str) -> str:
        from selenium.webdriver.common.by import By

        def read() -> str:
            return str(self.driver.find_element(By.CSS_SELECTOR, css).get_attribute(name))

        return str(await self._run(read))

    async def click(self, css: str) -> None:
        from selenium.webdriver.common.by import By

        await self._run(lambda: self.driver.find_element(By.CSS_SELECTOR, css).click())

    async def path(self) -> str:
        url = str(await self._run(lambda: self.driver.current_url))
        return url.removeprefix(self.base)

    async def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        out = ARTIFACTS / f"{name}.png"

        def take() -> None:
            # The whole page, not only the window (Chromium's own full-page capture).
            import base64

            width, height = self.driver.execute_script(
                "const e = document.documentElement; return [e.scrollWidth, e.scrollHeight]"
            )
            shot = self.driver.execute_cdp_cmd(
                "Page.captureScreenshot",
                {
                    "format": "png",
                    "captureBeyondViewport": True,
                    "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
                },
            )
            out.write_bytes(base64.b64decode(shot["data"]))

        await self._run(take)
        assert out.stat().st_size > 0
        return out


@pytest.fixture(scope="module")
def browsers() -> Iterator[dict[str, Browser]]:
    """A headless Chromium per language, started when first asked for, for the whole file."""
    opened: dict[str, Browser] = {}

    class Lazy(dict[str, Browser]):
        def __missing__(self, lang: str) -> Browser:
            opened[lang] = Browser(LANGS[lang])
            self[lang] = opened[lang]
            return opened[lang]

    yield Lazy()
    for b in opened.values():
        b.quit()


@pytest_asyncio.fixture
async def site(app: App) -> AsyncIterator[TestServer]:
    site_routes, pages = routes(app, check_every=0)
    application = web.Application()
    application.add_routes(site_routes)
    server = TestServer(application, host="127.0.0.1")  # a real server on an unused port
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()
        await pages.close()


def use(browsers: dict[str, Browser], lang: str, server: TestServer) -> Browser:
    b = browsers[lang]
    b.base = str(server.make_url("")).rstrip("/")
    return b


class Seeded:
    def __init__(self, cid: int, ids: dict[str, int]) -> None:
        self.cid = cid
        self.ids = ids


async def seed(app: App) -> Seeded:
    """A community with its page on: suggestions in both languages (one voted, one merged, one
    planned, one shipped), a release with posted four-grid results, a lottery drop with
    reservations."""
    console = ConsoleAdapter(app)
    await console.handle_line("/settings web on")
    cid = (await console.context()).community.id
    owner = await member(app, "Olive", Role.OWNER)
    assert owner.community.id == cid
    svc = app.services.get(SuggestionService)
    actor = owner.member.account_id
    ids = {
        "dark": await suggestion(app, owner, "Dark mode for the app"),
        "深色": await suggestion(app, owner, "支持深色模式"),
        "csv": await suggestion(app, owner, "Export to CSV"),
        "csv2": await suggestion(app, owner, "CSV export please"),
        "maps": await suggestion(app, owner, "离线地图"),
    }
    fans = [await member(app, f"Fan{i}") for i in range(3)]
    for fan in fans:
        await svc.vote(cid, ids["深色"], fan.member.account_id)
    await svc.merge(cid, ids["csv2"], ids["csv"], actor)
    await svc.set_status(cid, ids["maps"], "planned", "下个版本", actor)
    await svc.set_status(cid, ids["csv"], "shipped", None, actor)
    row = await release(app, owner, "v2.0", [ids["csv"], "更快的启动"])
    report = await open_report(app, row, owner)
    for fan in fans:
        for item in await weekly(app).items(row.id):
            await weekly(app).cast(cid, report.id, item.id, fan.member.account_id, 0)
    await weekly(app).close(report)
    await weekly(app).reports.mark_published(report.id, None, app.clock.now())
    await console.handle_line(
        '/drop create "Phone 17 首发" 3 "2026-11-21 09:00" lottery opens="2026-11-20 10:00" '
        'closes="2026-11-21 08:00"'
    )
    await console.handle_line("/advance 1h")
    for i in range(4):
        await console.handle_line(f"/as dropfan{i} fan")
        await console.handle_line("/reserve 1")
    await console.handle_line("/as you")
    return Seeded(cid, ids)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
async def test_a_fans_pages_in_a_real_browser(
    app: App, site: TestServer, browsers: dict[str, Browser], lang: str
) -> None:
    """Each page a fan uses, in the browser's language (Accept-Language): its heading, its
    content, the navigation between pages, and the switch to the other language."""
    s = await seed(app)
    b = use(browsers, lang, site)
    c = f"/c/{s.cid}"
    html_lang = "en" if lang == "en" else "zh-Hans"

    def t(key: str, **params: Any) -> str:
        return T(lang, key, **params)

    await b.open(f"{c}/")
    assert await b.attr("html", "lang") == html_lang
    assert t("web.board.title") in await b.text("h1")
    titles = await b.texts(".card h3")
    assert titles[0] == f"#{s.ids['深色']} 支持深色模式"  # the most voted, first by heat
    assert f"#{s.ids['dark']} Dark mode for the app" in titles
    assert not any("CSV export please" in x for x in titles)  # merged
    assert t("web.nav.roadmap") in await b.text("nav")
    await b.shot(f"{lang}-board")

    # Search in the page's own form, in Chinese.
    from selenium.webdriver.common.by import By

    def search(words: str) -> None:
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.support.wait import WebDriverWait

        box = b.driver.find_element(By.CSS_SELECTOR, "input[type=search]")
        box.clear()
        box.send_keys(words)
        # submit() returns before the results page is there. A mark on the old page's window
        # tells the pages apart: wait until the page has no mark (a new window) and is read
        # whole, or its cards would be read half-loaded (none). Asking the browser while it
        # navigates can fail (the old page's nodes are going): such answers are asked again.
        b.driver.execute_script("window.fanloopOldPage = true")
        box.submit()
        wait = WebDriverWait(b.driver, 30, ignored_exceptions=(WebDriverException,))
        wait.until(
            lambda d: d.execute_script(
                "return !window.fanloopOldPage && document.readyState === 'complete'"
            )
        )

    await b._run(search, "深色模式")
    assert (await b.texts(".card h3"))[0] == f"#{s.ids['深色']} 支持深色模式"

    await b.open(f"{c}/s/{s.ids['csv']}")
    assert await b.text("h1") == f"#{s.ids['csv']} Export to CSV"
    body = await b.text()
    assert t("web.suggestion.duplicates") in body and "CSV export please" in body
    assert t("web.suggestion.shipped_in") in body and "v2.0" in body
    await b.shot(f"{lang}-suggestion")

    # The navigation links lead from page to page.
    for page, key, expect in [
        ("roadmap", "web.roadmap.title", "离线地图"),
        ("changelog", "web.changelog.title", "更快的启动"),
        ("reports", "web.reports.title", "v2.0"),
        ("drops", "web.drops.title", "Phone 17 首发"),
    ]:
        await b.click(f'nav a[href^="{c}/{page}"]')
        assert (await b.path()).startswith(f"{c}/{page}")
        assert t(key) in await b.text("h1"), page
        assert expect in await b.text("main"), page
        assert await b.attr("nav a[aria-current=page]", "href") == b.base + f"{c}/{page}"
        await b.shot(f"{lang}-{page}")
    assert t("web.drops.counts", quota=3, reservations=4, remaining=3) in await b.text("main")

    await b.click("main h2 a")
    assert await b.text("h1") == "#1 Phone 17 首发"
    assert await b.texts("main h2 a") == []  # the drop's name once, as the page's heading
    assert t("web.drops.lottery") in await b.text("main")
    await b.shot(f"{lang}-drop")

    # The switch: the other language, kept while moving between pages.
    other = "zh_CN" if lang == "en" else "en"
    await b.click("header a.lang")
    assert (await b.path()) == f"{c}/drops/1?lang={other}"
    assert await b.attr("html", "lang") == ("en" if other == "en" else "zh-Hans")
    assert T(other, "web.drops.lottery") in await b.text("main")
    await b.click(f'nav a[href^="{c}/changelog"]')
    assert T(other, "web.changelog.title") in await b.text("h1")
    await b.shot(f"{lang}-switched-to-{other}-changelog")


async def test_a_vote_a_merge_a_release_and_a_drop_show_after_a_reload(
    app: App, site: TestServer, browsers: dict[str, Browser]
) -> None:
    s = await seed(app)
    b = use(browsers, "en", site)
    c = f"/c/{s.cid}"
    svc = app.services.get(SuggestionService)
    owner = await member(app, "Olive", Role.OWNER)
    actor = owner.member.account_id
    dark = s.ids["dark"]

    def votes(cards: list[str], title: str) -> int:
        [card] = [x for x in cards if title in x]
        return int(card.split()[0])

    await b.open(f"{c}/")
    assert votes(await b.texts(".card"), "Dark mode for the app") == 1
    app.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    for i in range(2):
        fan = await member(app, f"Voter{i}")
        await svc.vote(s.cid, dark, fan.member.account_id)
    await b.reload()
    assert votes(await b.texts(".card"), "Dark mode for the app") == 3

    # A merge: the duplicate leaves the board and shows on the original's page.
    assert "支持深色模式" in await b.text("main")
    await svc.merge(s.cid, s.ids["深色"], dark, actor)
    await b.reload()
    assert "支持深色模式" not in await b.text("main")
    await b.open(f"{c}/s/{dark}")
    assert "支持深色模式" in await b.text("main")

    # A release: on the changelog.
    await b.open(f"{c}/changelog")
    assert "v2.1" not in await b.text("main")
    assert "Export to CSV (1 vote)" in await b.text("main")
    await svc.set_status(s.cid, dark, "shipped", None, actor)
    await release(app, owner, "v2.1", [dark])
    await b.reload()
    assert "v2.1" in await b.text("main") and "Dark mode for the app" in await b.text("main")

    # A drop: a new reservation, then the draw.
    await b.open(f"{c}/drops")
    counts = T("en", "web.drops.counts", quota=3, reservations=4, remaining=3)
    assert counts in await b.text("main")
    console = ConsoleAdapter(app)
    await console.handle_line("/as latecomer fan")
    await console.handle_line("/reserve 1")
    await b.reload()
    counts = T("en", "web.drops.counts", quota=3, reservations=5, remaining=3)
    assert counts in await b.text("main")
    await b.open(f"{c}/drops/1")
    assert T("en", "web.drops.verification") not in await b.text("main")
    await console.handle_line("/advance 1d")
    await b.reload()
    assert T("en", "web.drops.verification") in await b.text("main")
    await b.shot("en-drop-drawn")
