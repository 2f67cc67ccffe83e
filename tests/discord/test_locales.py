"""The adapter's own catalogs: complete in both languages, and names Discord accepts."""

from __future__ import annotations

import string

from bot.adapters.discord.translate import valid_name
from bot.core.i18n import Translator

PACKAGE = "bot.adapters.discord"


def fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_catalogs_have_the_same_messages() -> None:
    tr = Translator()
    tr.load_package(PACKAGE)
    en, zh = tr.keys("en"), tr.keys("zh_CN")
    assert en and en == zh
    for key in en:
        texts = tr.all(key)
        assert fields(texts["en"]) == fields(texts["zh_CN"]), key


def test_names_are_valid_discord_names() -> None:
    tr = Translator()
    tr.load_package(PACKAGE)
    names = [k for k in tr.keys("en") if k.startswith(("discord.name.", "discord.option."))]
    assert len(names) > 40
    for key in names:
        texts = tr.all(key)
        # English names are the declared ones; Chinese ones must be valid command names.
        assert texts["en"] == key.rsplit(".", 1)[-1], key
        assert valid_name(texts["zh_CN"]), f"{key}: {texts['zh_CN']!r}"
