"""The suggestion loop: suggest → merge → rank, with statuses and notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.commands import ParamType
from bot.core.settings import SettingSpec
from cogs.suggestions import admin, commands, contributions
from cogs.suggestions.service import SuggestionService
from storage.suggestions import SuggestionRepo

if TYPE_CHECKING:
    from bot.core.app import App


def setup(app: App) -> None:
    app.services.add(SuggestionService(SuggestionRepo(app.engine), app.clock))
    app.contribution_sources.append(contributions.source(app.engine))
    app.community_settings.declare(
        SettingSpec(
            "heat_half_life_days", "setting.heat_half_life_days", ParamType.INT, 7, min=1, max=365
        )
    )
    commands.register(app)
    admin.register(app)
