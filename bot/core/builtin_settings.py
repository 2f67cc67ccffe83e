"""The settings every community has, whatever cogs are loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.commands import ParamType
from bot.core.i18n import LOCALES
from bot.core.settings import SettingSpec, validate_timezone

if TYPE_CHECKING:
    from bot.core.app import App


def declare(app: App) -> None:
    s = app.community_settings
    s.declare(
        SettingSpec(
            "language",
            "setting.language",
            ParamType.CHOICE,
            app.settings.default_locale,
            choices=tuple(loc.lower() for loc in LOCALES),
            validate=lambda v: "zh_CN" if v == "zh_cn" else v,
        )
    )
    s.declare(
        SettingSpec(
            "timezone",
            "setting.timezone",
            ParamType.TEXT,
            app.settings.default_timezone,
            max=64,
            validate=validate_timezone,
        )
    )
    s.declare(SettingSpec("admin_roles", "setting.admin_roles", ParamType.TEXT, "", max=300))
