"""Message catalogs (gettext .po files read with Babel) keyed by message ids, not English text.

Every package that speaks to users keeps `locales/en.po` and `locales/zh_CN.po` beside its code;
`Translator.load_package` reads them. Messages use `str.format` placeholders: `{count}`.

Traditional Chinese (`zh_TW`, for members in Taiwan, Hong Kong and Macau) is made from the
simplified catalog as Taiwan writes it (`bot.core.chinese.taiwan`: OpenCC's `s2twp`,
traditional characters and Taiwan's words: 设置 → 設定, 视频 → 影片), with a package's
`locales/zh_TW.po`, where it has one, for the few messages a conversion cannot make (the name
of the language itself).
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Iterable
from importlib import resources
from typing import Any

from babel.messages.pofile import read_po

from bot.core.chinese import taiwan

log = logging.getLogger(__name__)

LOCALES = ("en", "zh_CN", "zh_TW")
DEFAULT_LOCALE = "en"
# Where OpenCC's reading of a word is not what fanloop's messages mean by it: 代码 is a link or
# join code (not a program's 程式碼), 审核 a review (not an audit, 稽核), and 并发布 / 只能 are
# "and publish" / "can only" (not 併發, concurrency, nor 隻, the measure word); and Taiwan writes
# an account 帳號.
_TAIWAN_FIXES = (
    ("程式碼", "代碼"),
    ("稽核", "審核"),
    ("併發布", "並發布"),
    ("隻能", "只能"),
    ("賬", "帳"),
)


def _taiwan_message(text: str) -> str:
    out = taiwan(text)
    for wrong, right in _TAIWAN_FIXES:
        out = out.replace(wrong, right)
    return out


#: A catalog made from another's messages, by a conversion of each.
DERIVED = {"zh_TW": ("zh_CN", _taiwan_message)}
# Chinese written in traditional characters: Taiwan, Hong Kong, Macau, and the script's tag.
_TRADITIONAL = ("zh_tw", "zh_hk", "zh_mo", "zh_hant")


def normalize_locale(value: str | None) -> str | None:
    """Map platform locale codes (en-US, zh-CN, zh-hans, zh-TW, zh-Hant-HK, zh) onto a
    supported catalog."""
    if not value:
        return None
    low = value.replace("-", "_").lower()
    if low.startswith(_TRADITIONAL):
        return "zh_TW"
    if low.startswith("zh"):
        return "zh_CN"
    if low.startswith("en"):
        return "en"
    return None


def canonical_locale(value: str) -> str:
    """A supported locale as typed in lower case (`zh_tw`) in its own spelling (`zh_TW`)."""
    return {loc.lower(): loc for loc in LOCALES}.get(value.lower(), value)


class Translator:
    def __init__(self) -> None:
        self._catalogs: dict[str, dict[str, str]] = {loc: {} for loc in LOCALES}

    def load_package(self, package: str) -> None:
        """Read `<package>/locales/<locale>.po` for every supported locale that exists; a
        derived locale (`DERIVED`) converts its source's messages first, then reads its own."""
        base = resources.files(package).joinpath("locales")
        for loc in LOCALES:
            messages: dict[str, str] = {}
            if loc in DERIVED:
                source, convert = DERIVED[loc]
                messages = {key: convert(text) for key, text in self._read(base, source).items()}
            messages.update(self._read(base, loc))
            self._catalogs[loc].update(messages)

    @staticmethod
    def _read(base: Any, loc: str) -> dict[str, str]:
        po = base.joinpath(f"{loc}.po")
        if not po.is_file():
            return {}
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=loc)
        return {str(m.id): str(m.string) for m in catalog if m.id and m.string}

    def keys(self, locale: str = DEFAULT_LOCALE) -> set[str]:
        return set(self._catalogs[locale])

    def has(self, key: str) -> bool:
        return key in self._catalogs[DEFAULT_LOCALE]

    def __call__(self, locale: str | None, key: str, /, **params: Any) -> str:
        loc = normalize_locale(locale) or DEFAULT_LOCALE
        text = self._catalogs[loc].get(key) or self._catalogs[DEFAULT_LOCALE].get(key)
        if text is None:
            log.warning("missing message %r", key)
            return key
        if not params:
            return text
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            log.warning("bad parameters for message %r: %r", key, params)
            return text

    def locale_of(self, key: str, text: str, /, **known: Any) -> str | None:
        """The locale in which message `key` reads `text`, with the `known` parameters filled in
        and any other placeholder matching anything (a button label shown earlier, whose count
        is to be brought up to date in the same language); None when no catalog matches."""
        for loc, catalog in self._catalogs.items():
            template = catalog.get(key)
            if template is not None and _pattern(template, known).fullmatch(text):
                return loc
        return None

    def all(self, key: str) -> dict[str, str]:
        """The message in every locale that has it (for platform command localization)."""
        return {loc: cat[key] for loc, cat in self._catalogs.items() if key in cat}


def _pattern(template: str, known: dict[str, Any]) -> re.Pattern[str]:
    parts: list[str] = []
    for literal, name, spec, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is None:
            continue
        if name in known:
            parts.append(re.escape(format(known[name], spec or "")))
        else:
            parts.append("(.+?)")
    return re.compile("".join(parts), re.DOTALL)


def build_translator(packages: Iterable[str]) -> Translator:
    tr = Translator()
    for package in packages:
        tr.load_package(package)
    return tr
