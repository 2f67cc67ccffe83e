"""Rendering: Jinja2 templates (autoescaped: every value from members is text, never markup),
the visitor's language, and the caching headers (Cache-Control, ETag, 304)."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from bot.core.i18n import LOCALES, Translator, normalize_locale

LANGS = LOCALES
#: The `lang` attribute of a page in each language.
HTML_LANG = {"en": "en", "zh_CN": "zh-Hans", "zh_TW": "zh-Hant"}
MAX_AGE = 5  # seconds: a vote shows within a few seconds, yet a burst of visitors is served once
# Scripts only from the site itself (the live counts' static file, no inline script) and their
# reads only of the site's own JSON; everything else as strict as a page without script.
CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; "
    "style-src 'unsafe-inline'; img-src 'self'"
)


def language(request: web.Request, fallback: str) -> tuple[str, bool]:
    """The page's language, and whether the visitor chose it (`?lang=`): the choice, else the
    best of the Accept-Language header, else the community's language."""
    chosen = normalize_locale(request.query.get("lang", ""))
    if chosen is not None:
        return chosen, True
    accepted = _accepted(request)
    if accepted is not None:
        return accepted, False
    return (fallback if fallback in LANGS else "en"), False


def _accepted(request: web.Request, *, chinese: bool = False) -> str | None:
    """The language the visitor's Accept-Language header prefers, of those the site has (of its
    Chinese ones with `chinese`)."""
    best: tuple[float, str] | None = None
    for part in request.headers.get("Accept-Language", "").split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        loc = normalize_locale(tag)
        if chinese and loc == "en":
            continue
        if loc and q > 0 and (best is None or q > best[0]):
            best = (q, loc)
    return None if best is None else best[1]


class Renderer:
    def __init__(self) -> None:
        self.t = Translator()
        self.t.load_package("bot.web.site")
        self.env = Environment(
            loader=PackageLoader("bot.web.site", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def html(
        self,
        request: web.Request,
        template: str,
        data: dict[str, Any],
        *,
        lang: str,
        chosen: bool,
        private: bool = False,
        status: int = 200,
    ) -> web.Response:
        def t(key: str, /, **params: Any) -> str:
            return self.t(lang, key, **params)

        def live(key: str, paths: dict[str, str], /, **params: Any) -> Markup:
            """A message whose values named in `paths` are wrapped for the live script
            (`<span data-live-field="drop.remaining">3</span>`); the rest is escaped text."""
            marked = {k: f"\x00{k}\x00" if k in paths else v for k, v in params.items()}
            text = str(escape(self.t(lang, key, **marked)))
            for k, path in paths.items():
                span = Markup('<span data-live-field="{}">{}</span>').format(path, params[k])
                text = text.replace(f"\x00{k}\x00", span)
            return Markup(text)

        def url(path: str, **params: Any) -> str:
            """A link that keeps the chosen language; None values are left out."""
            query = {k: v for k, v in params.items() if v not in (None, "")}
            if chosen:
                query["lang"] = lang
            return path + ("?" + urlencode(query) if query else "")

        here = {k: v for k, v in request.query.items() if k != "lang"}
        # To English, or from it to the visitor's Chinese (traditional when they prefer it).
        other = "en" if lang != "en" else _accepted(request, chinese=True) or "zh_CN"
        switch = request.path + "?" + urlencode({**here, "lang": other})
        body = self.env.get_template(template).render(
            **data,
            t=t,
            live=live,
            url=url,
            lang=lang,
            html_lang=HTML_LANG[lang],
            switch_lang=HTML_LANG[other],
            switch_url=switch,
            switch_label=self.t(other, "web.language.name"),
            private=private,
            chosen=chosen,
            request_path=request.path,
            page_name=template.removesuffix(".html"),
        )
        return cached(request, body.encode(), "text/html; charset=utf-8", private, status)

    def json(
        self, request: web.Request, data: dict[str, Any], *, private: bool = False
    ) -> web.Response:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        return cached(request, body, "application/json; charset=utf-8", private, 200)


def cached(
    request: web.Request, body: bytes, content_type: str, private: bool, status: int
) -> web.Response:
    """The response with its caching headers; 304 when the visitor holds this very body."""
    etag = '"' + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:20] + '"'
    headers = {
        "Cache-Control": f"{'private' if private else 'public'}, max-age={MAX_AGE}",
        "ETag": etag,
        "Vary": "Accept-Language",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CSP,
        "Referrer-Policy": "no-referrer" if private else "strict-origin-when-cross-origin",
    }
    if private:
        headers["X-Robots-Tag"] = "noindex, nofollow"
    if status != 200:
        headers["Cache-Control"] = "no-store"
    elif etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        return web.Response(status=304, headers=headers)
    response = web.Response(body=body, status=status, headers=headers)
    response.headers["Content-Type"] = content_type
    return response
