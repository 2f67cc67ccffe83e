"""The request handlers: find the community, read its data (`reader`), render it as HTML or
JSON (`render`). Nothing here writes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web

from bot.core.app import App
from bot.web.site.reader import NotFound, Site, SiteReader
from bot.web.site.render import Renderer, cached, language

log = logging.getLogger(__name__)

LIVE_JS = (resources.files("bot.web.site") / "static" / "live.js").read_bytes()

Reader = Callable[[Site, web.Request], Awaitable[dict[str, Any]]]


def _int(request: web.Request, name: str, default: int = 1) -> int:
    try:
        return int(request.query.get(name, default))
    except ValueError:
        return default


class SitePages:
    def __init__(self, app: App, *, check_every: float = 2.0) -> None:
        self.app = app
        self.reader = SiteReader(app, check_every=check_every)
        self.render = Renderer()

    async def close(self) -> None:
        await self.reader.close()

    # -- finding the community ---------------------------------------------------------------

    async def _site(self, request: web.Request) -> Site:
        info = request.match_info
        try:
            if "token" in info:
                return await self.reader.private(info["token"])
            return await self.reader.public(int(info["cid"]))
        except (NotFound, ValueError):
            raise NotFound from None

    def _lang(self, request: web.Request, site: Site | None) -> tuple[str, bool]:
        fallback = site.language if site else self.app.settings.default_locale
        return language(request, fallback)

    def _not_found(self, request: web.Request, site: Site | None = None) -> web.Response:
        lang, chosen = self._lang(request, site)
        return self.render.html(
            request,
            "not_found.html",
            {"community": None},
            lang=lang,
            chosen=chosen,
            private=site.private if site else False,
            status=404,
        )

    # -- the pages ---------------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.Response:
        sites = await self.reader.listed()
        lang, chosen = self._lang(request, None)
        data = {"communities": [{"id": s.id, "name": s.name, "path": s.path} for s in sites]}
        return self.render.html(
            request, "index.html", {**data, "community": None}, lang=lang, chosen=chosen
        )

    async def api_index(self, request: web.Request) -> web.Response:
        sites = await self.reader.listed()
        data = {"communities": [{"id": s.id, "name": s.name, "path": s.path} for s in sites]}
        return self.render.json(request, data)

    def page(
        self, template: str | None, read: Reader
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        """A handler: HTML with `template`, JSON when it is None."""

        async def handle(request: web.Request) -> web.Response:
            site: Site | None = None
            try:
                site = await self._site(request)
                data = await read(site, request)
            except NotFound:
                if template is None:
                    return web.json_response(
                        {"error": "not found"}, status=404, headers={"Cache-Control": "no-store"}
                    )
                return self._not_found(request, site)
            if template is None:
                return self.render.json(request, data, private=site.private)
            lang, chosen = self._lang(request, site)
            return self.render.html(
                request, template, data, lang=lang, chosen=chosen, private=site.private
            )

        return handle

    # -- what each page reads ----------------------------------------------------------------

    async def _board(self, site: Site, request: web.Request) -> dict[str, Any]:
        q = request.query
        return await self.reader.board_data(
            site,
            sort=q.get("sort", "heat"),
            status=q.get("status") or None,
            category=q.get("category") or None,
            query=q.get("q", ""),
            page=_int(request, "page"),
        )

    async def _suggestion(self, site: Site, request: web.Request) -> dict[str, Any]:
        try:
            sid = int(request.match_info["sid"])
        except ValueError:
            raise NotFound from None
        return await self.reader.suggestion_data(site, sid)

    async def _roadmap(self, site: Site, request: web.Request) -> dict[str, Any]:
        return await self.reader.roadmap_data(site)

    async def _changelog(self, site: Site, request: web.Request) -> dict[str, Any]:
        return await self.reader.changelog_data(site)

    async def _reports(self, site: Site, request: web.Request) -> dict[str, Any]:
        return await self.reader.reports_data(site)

    async def _drops(self, site: Site, request: web.Request) -> dict[str, Any]:
        return await self.reader.drops_data(site)

    async def _drop(self, site: Site, request: web.Request) -> dict[str, Any]:
        try:
            drop_id = int(request.match_info["did"])
        except ValueError:
            raise NotFound from None
        return await self.reader.drop_data(site, drop_id)

    async def live_js(self, request: web.Request) -> web.Response:
        """The live counts' script (static/live.js): the only script the pages load."""
        return cached(request, LIVE_JS, "text/javascript; charset=utf-8", False, 200)

    def routes(self) -> list[web.RouteDef]:
        out = [
            web.get("/", self.index),
            web.get("/api/communities", self.api_index),
            web.get("/static/live.js", self.live_js),
        ]
        for base in ("/c/{cid:\\d+}", "/p/{token:[A-Za-z0-9_-]{16,64}}"):
            for path, template, read in (
                ("", "board.html", self._board),
                ("/", "board.html", self._board),
                ("/s/{sid:\\d+}", "suggestion.html", self._suggestion),
                ("/roadmap", "roadmap.html", self._roadmap),
                ("/changelog", "changelog.html", self._changelog),
                ("/reports", "reports.html", self._reports),
                ("/api/reports", None, self._reports),
                ("/drops", "drops.html", self._drops),
                ("/api/drops", None, self._drops),
                ("/drops/{did:\\d+}", "drop.html", self._drop),
                ("/api/drops/{did:\\d+}", None, self._drop),
                ("/api/board", None, self._board),
                ("/api/s/{sid:\\d+}", None, self._suggestion),
                ("/api/roadmap", None, self._roadmap),
                ("/api/changelog", None, self._changelog),
            ):
                out.append(web.get(base + path, self.page(template, read)))
        return out


def routes(app: App, *, check_every: float = 2.0) -> tuple[list[web.RouteDef], SitePages]:
    """The site's routes for `app`, and the pages object (close it after serving)."""
    pages = SitePages(app, check_every=check_every)
    return pages.routes(), pages
