"""Message catalogs (gettext .po files read with Babel) keyed by message ids, not English text.

Every package that speaks to users keeps `locales/en.po` and `locales/zh_CN.po` beside its code;
`Translator.load_package` reads them. Messages use `str.format` placeholders: `{count}`.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Iterable
from importlib import resources
from typing import Any

from babel.messages.pofile import read_po

log = logging.getLogger(__name__)

LOCALES = ("en", "zh_CN")
DEFAULT_LOCALE = "en"


def normalize_locale(value: str | None) -> str | None:
    """Map platform locale codes (en-US, zh-CN, zh-hans, zh_TW, zh) onto a supported catalog."""
    if not value:
        return None
    low = value.replace("-", "_").lower()
    if low.startswith("zh"):
        return "zh_CN"
    if low.startswith("en"):
        return "en"
    return None


class Translator:
    def __init__(self) -> None:
        self._catalogs: dict[str, dict[str, str]] = {loc: {} for loc in LOCALES}

    def load_package(self, package: str) -> None:
        """Read `<package>/locales/<locale>.po` for every supported locale that exists."""
        base = resources.files(package).joinpath("locales")
        for loc in LOCALES:
            po = base.joinpath(f"{loc}.po")
            if not po.is_file():
                continue
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=loc)
            for message in catalog:
                if message.id and message.string:
                    self._catalogs[loc][str(message.id)] = str(message.string)

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
