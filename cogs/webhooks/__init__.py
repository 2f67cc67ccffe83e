"""Outgoing webhooks: a signed POST to the owner's address for each event of the community (new
suggestion, status change, merge, release, four-grid results, drop results), through the outbox."""

from __future__ import annotations

from bot.core.feature import FeatureSetup
from cogs.webhooks import commands
from cogs.webhooks.config import SPEC, WebhookConfig
from cogs.webhooks.service import WebhookService
from storage.core.settings import SettingsRepo


def setup(feature: FeatureSetup) -> None:
    service = WebhookService(
        feature.outbox, WebhookConfig(SettingsRepo(feature.engine)), feature.clock
    )
    feature.services.add(service)
    feature.settings.declare(SPEC)
    feature.add_event_sink(service.store)
    feature.add_worker(service.run)
    feature.on_shutdown(service.close)
    commands.register(feature)
