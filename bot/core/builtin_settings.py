"""The settings every community has, whatever cogs are loaded."""

from __future__ import annotations

import secrets

from bot.core.commands import ParamType
from bot.core.i18n import LOCALES, canonical_locale
from bot.core.settings import SettingSpec, SettingsService, validate_timezone
from config.settings import FanloopSettings

#: `web`: "private" is stored as "private:<token>", the unguessable part of the page's address
#: (bot/web/site); setting it again gives a new token.
WEB_CHOICES = ("off", "on", "private")
WEB_PRIVATE = "private:"


def _web(value: str) -> str:
    return WEB_PRIVATE + secrets.token_urlsafe(18) if value == "private" else value


def declare(s: SettingsService, config: FanloopSettings) -> None:
    s.declare(
        SettingSpec(
            "language",
            "setting.language",
            ParamType.CHOICE,
            config.default_locale,
            choices=tuple(loc.lower() for loc in LOCALES),
            validate=canonical_locale,
        )
    )
    s.declare(
        SettingSpec(
            "timezone",
            "setting.timezone",
            ParamType.TEXT,
            config.default_timezone,
            max=64,
            validate=validate_timezone,
        )
    )
    s.declare(SettingSpec("admin_roles", "setting.admin_roles", ParamType.TEXT, "", max=300))
    # The community's public web page (bot/web/site): off, on (listed, at /c/<id>), private
    # (unlisted, at /p/<token>); and whether it shows members' display names (else pseudonyms).
    s.declare(
        SettingSpec(
            "web", "setting.web", ParamType.CHOICE, "off", choices=WEB_CHOICES, validate=_web
        )
    )
    s.declare(SettingSpec("web_names", "setting.web_names", ParamType.BOOL, False))
