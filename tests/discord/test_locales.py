"""Catalogs: the adapter's own complete in both languages and holding only its messages; every
command's Discord names in the catalog of the cog that declares it, names Discord accepts."""

from __future__ import annotations

import re
import string
from pathlib import Path

from bot.adapters.discord.translate import valid_name
from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.i18n import Translator
from config.settings import DEFAULT_COGS, FanloopSettings

PACKAGE = "bot.adapters.discord"
COMMAND_STRINGS = re.compile(r"^discord\.(name|group|option|choice|form)\.")


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


def test_the_adapter_catalog_holds_no_command_strings() -> None:
    tr = Translator()
    tr.load_package(PACKAGE)
    assert not [k for k in tr.keys("en") if COMMAND_STRINGS.match(k)]


async def test_each_cog_names_only_its_own_commands(tmp_path: Path, clock: FakeClock) -> None:
    app = await App.create(FanloopSettings(data_dir=tmp_path), clock, migrate=False)
    try:
        declared: dict[str, set[str]] = {}
        for spec in app.commands.all():
            cog = ".".join(spec.handler.__module__.split(".")[:2])
            path = spec.name.replace(" ", ".")
            declared.setdefault(cog, set()).update({path, *path.split(".")[:-1]})
        for cog in DEFAULT_COGS:
            tr = Translator()
            tr.load_package(cog)
            for key in tr.keys("en"):
                if not COMMAND_STRINGS.match(key):
                    continue
                rest = key.split(".", 2)[2]
                assert any(rest == c or rest.startswith(c + ".") for c in declared[cog]), (
                    f"{cog}: {key} names no command of this cog"
                )
            assert tr.keys("en") == tr.keys("zh_CN"), cog
    finally:
        await app.close()


def test_names_are_valid_discord_names() -> None:
    tr = Translator()
    tr.load_package(PACKAGE)
    for cog in DEFAULT_COGS:
        tr.load_package(cog)
    names = [k for k in tr.keys("en") if k.startswith(("discord.name.", "discord.option."))]
    assert len(names) > 40
    for key in names:
        texts = tr.all(key)
        # English names are the declared ones; Chinese ones must be valid command names.
        assert texts["en"] == key.rsplit(".", 1)[-1], key
        assert valid_name(texts["zh_CN"]), f"{key}: {texts['zh_CN']!r}"
