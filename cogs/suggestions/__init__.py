"""The suggestion loop: suggest → merge → rank, with statuses and notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.commands import ParamType
from bot.core.settings import SettingSpec
from cogs.suggestions import admin, commands, contributions
from cogs.suggestions.service import SuggestionService
from cogs.suggestions.similarity import make_index
from storage.suggestions.contributions import ContributionRepo
from storage.suggestions.merges import merge_suggestion_accounts
from storage.suggestions.posts import SuggestionRepo

if TYPE_CHECKING:
    from bot.core.app import App


def setup(app: App) -> None:
    settings = app.settings
    model, weight = settings.dedup_model, settings.dedup_semantic_weight
    if model is not None:
        make_index(model, weight)  # load the model now: a bad one stops the start, not a post
    repo = SuggestionRepo(app.engine)
    service = SuggestionService(repo, app.clock, index_factory=lambda: make_index(model, weight))
    app.services.add(service)
    app.contribution_sources.append(contributions.source(ContributionRepo(app.engine)))
    app.account_mergers.append(merge_suggestion_accounts)
    app.content_checks.append(repo.any_in_community)
    app.community_settings.declare(
        SettingSpec(
            "heat_half_life_days", "setting.heat_half_life_days", ParamType.INT, 7, min=1, max=365
        )
    )
    commands.register(app)
    admin.register(app)
