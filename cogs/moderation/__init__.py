"""Moderation: the audit log, muted members, the word filter, the review queue and reports.

The audit log is written by the dispatcher (bot/core/audit.py); this cog reads it (/audit).
A mute is an admission check of the dispatcher; the queue is a gate of the suggestion service
(held posts) and a place for fans' reports (/flag).
"""

from __future__ import annotations

from bot.core.commands import ParamType
from bot.core.feature import FeatureSetup
from bot.core.settings import SettingSpec
from cogs.moderation import commands, review
from cogs.moderation.mutes import MuteService
from cogs.moderation.queue import REVIEW_SETTING, QueueService
from cogs.suggestions.service import SuggestionService
from storage.core.audit import AuditRepo, merge_audit_accounts
from storage.moderation.mutes import MuteRepo, merge_mute_accounts
from storage.moderation.queue import QueueRepo, merge_queue_accounts
from storage.moderation.words import WordRepo


def setup(feature: FeatureSetup) -> None:
    suggestions = feature.services.get(SuggestionService)  # cogs.suggestions loads first
    mutes = MuteService(MuteRepo(feature.engine), feature.clock)
    mutes.listen(feature.changes)
    words = WordRepo(feature.engine)
    queue = QueueService(
        QueueRepo(feature.engine),
        words,
        suggestions,
        feature.settings,
        feature.outbox,
        feature.translator,
        feature.clock,
    )
    suggestions.gates.append(queue.gate)
    feature.services.add(mutes)
    feature.services.add(words)
    feature.services.add(queue)
    feature.services.add(AuditRepo(feature.engine))
    feature.add_admission_check(mutes.check)
    feature.add_account_merger(merge_audit_accounts)
    feature.add_account_merger(merge_mute_accounts)
    feature.add_account_merger(merge_queue_accounts)
    feature.settings.declare(
        SettingSpec(REVIEW_SETTING, "setting.review_queue", ParamType.BOOL, False)
    )
    commands.register(feature)
    review.register(feature)
