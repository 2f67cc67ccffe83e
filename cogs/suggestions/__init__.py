"""The suggestion loop: suggest → merge → rank, with statuses and notifications."""

from __future__ import annotations

from bot.core.commands import ParamType
from bot.core.feature import FeatureSetup
from bot.core.settings import SettingSpec
from cogs.suggestions import (
    admin,
    category_commands,
    commands,
    contributions,
    corrections,
    discussion_commands,
    export,
)
from cogs.suggestions.categories import CategoryService
from cogs.suggestions.discussion import DiscussionService
from cogs.suggestions.service import SuggestionService
from cogs.suggestions.similarity import make_index
from storage.suggestions.categories import CategoryRepo
from storage.suggestions.comments import CommentRepo, merge_comment_accounts
from storage.suggestions.contributions import ContributionRepo
from storage.suggestions.merges import merge_suggestion_accounts
from storage.suggestions.posts import SuggestionRepo


def setup(feature: FeatureSetup) -> None:
    config = feature.config
    model, weight = config.dedup_model, config.dedup_semantic_weight
    if model is not None:
        make_index(model, weight)  # load the model now: a bad one stops the start, not a post
    repo = SuggestionRepo(feature.engine)
    settings = feature.settings

    async def anonymous(community_id: int) -> bool:
        return bool(await settings.get(community_id, commands.ANONYMOUS))

    service = SuggestionService(
        repo,
        feature.clock,
        index_factory=lambda: make_index(model, weight),
        anonymous=anonymous,
    )
    service.listen(feature.changes)
    service.events = feature.events
    feature.services.add(service)
    feature.services.add(CategoryService(CategoryRepo(feature.engine), feature.clock))
    feature.on_shutdown(service.writer.close)
    feature.on_shutdown(service.embeddings.close)
    feature.metrics.suggestion_vectors_waiting.set_function(service.embeddings.waiting)
    service.embeddings.on_added = feature.metrics.suggestion_vectors_added.inc
    service.embeddings.on_set_aside = feature.metrics.suggestion_vectors_set_aside.inc
    feature.add_contribution_source(contributions.source(ContributionRepo(feature.engine)))
    feature.add_account_merger(merge_suggestion_accounts)
    feature.add_content_check(repo.any_in_community)
    feature.settings.declare(
        SettingSpec(
            "heat_half_life_days", "setting.heat_half_life_days", ParamType.INT, 7, min=1, max=365
        )
    )
    feature.settings.declare(
        SettingSpec(commands.ANONYMOUS, "setting.anonymous_suggestions", ParamType.BOOL, False)
    )
    commands.register(feature)
    admin.register(feature)
    talk = DiscussionService(
        CommentRepo(feature.engine),
        feature.clock,
        feature.outbox,
        feature.translator,
        feature.identity,
        feature.events,
    )
    feature.services.add(talk)
    feature.add_account_merger(merge_comment_accounts)
    feature.add_due_work(talk.tell_followers)
    feature.add_retention("suggestion_drafts", repo.purge_drafts)
    discussion_commands.register(feature, commands.ID)
    corrections.register(feature)
    category_commands.register(feature)
    export.register(feature)
