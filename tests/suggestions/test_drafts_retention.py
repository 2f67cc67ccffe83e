"""Drafts (a submission kept while its author looks at the similar suggestions) are deleted by
the scheduler's hourly retention once `retention_days` old; a press on one is then told it is
gone, and younger drafts still post."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.errors import UserError
from bot.core.scheduler import Scheduler
from cogs.suggestions.service import SuggestionService
from tests.helpers import member


async def test_retention_deletes_old_drafts_and_keeps_young_ones(
    app: App, clock: FakeClock
) -> None:
    svc = app.services.get(SuggestionService)
    alice, bob, carol = [await member(app, n) for n in ("alice", "bob", "carol")]
    await svc.submit(alice.community.id, alice.member.account_id, "Dark mode", "", None)

    async def draft(who) -> int:  # type: ignore[no-untyped-def]
        sub = await svc.submit(who.community.id, who.member.account_id, "Dark mode!", "", None)
        assert sub.posted is None and sub.draft_id is not None
        return sub.draft_id

    old = await draft(bob)
    clock.advance(timedelta(days=app.settings.retention_days, hours=1))
    young = await draft(carol)

    await Scheduler(app).tick()  # the first tick of a process runs the retention

    with pytest.raises(UserError) as err:
        await svc.post_draft(bob.community.id, old, bob.member.account_id)
    assert err.value.key == "suggest.draft.unknown"
    row = await svc.post_draft(carol.community.id, young, carol.member.account_id)
    assert row.title == "Dark mode!"
