"""Localized command names and descriptions through discord.py's translator.

Every string of the synced schema is a `locale_str` whose `key` extra names a catalog message
(in the catalog of the cog that declares the command: see the keys below);
the translator answers Discord's locales from fanloop's catalogs (zh_CN → Discord's `zh-CN`,
zh_TW → `zh-TW`).
Names must stay valid command names (lowercase, no spaces, ≤ 32 characters) in every locale; a
translation that is not one is left out, so Discord shows the default name.
"""

from __future__ import annotations

import logging
import re

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

from bot.core.commands import CommandSpec, Param, label_key
from bot.core.i18n import DEFAULT_LOCALE, Translator

log = logging.getLogger(__name__)

# Discord locale -> fanloop catalog.
CATALOGS: dict[discord.Locale, str] = {
    discord.Locale.chinese: "zh_CN",
    discord.Locale.taiwan_chinese: "zh_TW",
}
NAME = re.compile(r"^[-_\w]{1,32}$")
NAME_PLACES = (Where.command_name, Where.group_name, Where.parameter_name)
DESCRIPTION_LIMIT = 100


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def valid_name(text: str) -> bool:
    return bool(NAME.match(text)) and text == text.lower()


def dotted(name: str) -> str:
    return name.replace(" ", ".")


def name_key(command: str) -> str:
    """The catalog key of a command's (or a group's) Discord name."""
    return f"discord.name.{dotted(command)}"


def option_key(spec: CommandSpec, p: Param) -> str:
    """The catalog key of a parameter's Discord option name (also a form field's label)."""
    return label_key(spec, p)


def form_key(command: str) -> str:
    """The catalog key of a command form's (modal's) title."""
    return f"discord.form.{dotted(command)}"


def choice_keys(spec: CommandSpec, p: Param, value: str) -> tuple[str, str]:
    """Catalog keys of a choice's label: the Discord one, else the cog's label of the value."""
    return f"discord.choice.{dotted(spec.name)}.{p.name}.{value}", f"{p.name}.{value}"


def localized(message: str, key: str | None) -> app_commands.locale_str:
    """A schema string: `message` is the default (English), `key` the catalog message."""
    return app_commands.locale_str(message, key=key) if key else app_commands.locale_str(message)


class Strings:
    """Default (English) texts of the schema, looked up with fallbacks."""

    def __init__(self, translator: Translator) -> None:
        self.translator = translator

    def text(self, *keys: str, default: str = "") -> tuple[str, str | None]:
        """The first key the catalogs know, with its English text; else (default, None)."""
        for key in keys:
            if key and self.translator.has(key):
                return self.translator(DEFAULT_LOCALE, key), key
        return default, None

    def description(self, *keys: str, default: str) -> app_commands.locale_str:
        text, key = self.text(*keys, default=default)
        return localized(clip(text, DESCRIPTION_LIMIT), key)

    def name(self, name: str, *keys: str) -> app_commands.locale_str:
        """A command, group or option name; its translations may exist in some locales only."""
        key = next((k for k in keys if self.translator.all(k)), None)
        return localized(name, key)


class CommandTranslator(app_commands.Translator):
    def __init__(self, translator: Translator) -> None:
        self.translator = translator

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        catalog = CATALOGS.get(locale)
        key = string.extras.get("key")
        if catalog is None or not key:
            return None
        text = self.translator.all(key).get(catalog)
        if text is None:
            return None
        if context.location in NAME_PLACES:
            if not valid_name(text):
                log.warning("%s name %r for %s is not a valid Discord name", catalog, text, key)
                return None
            return text
        return clip(text, DESCRIPTION_LIMIT)
