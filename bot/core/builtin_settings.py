"""The settings every community has, whatever cogs are loaded."""

from __future__ import annotations

from bot.core.commands import ParamType
from bot.core.i18n import LOCALES
from bot.core.settings import SettingSpec, SettingsService, validate_timezone
from config.settings import FanloopSettings


def declare(s: SettingsService, config: FanloopSettings) -> None:
    s.declare(
        SettingSpec(
            "language",
            "setting.language",
            ParamType.CHOICE,
            config.default_locale,
            choices=tuple(loc.lower() for loc in LOCALES),
            validate=lambda v: "zh_CN" if v == "zh_cn" else v,
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
