"""A mute made by one process holds in another at its next event: the mutes each process keeps
in memory are forgotten when the change feed says a community's mutes changed."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.clock import FakeClock
from bot.core.errors import UserError
from cogs.moderation.mutes import MuteService
from config.settings import FanloopSettings
from tests.feeds import two_listening_apps
from tests.helpers import member

pytestmark = pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)


async def test_a_mute_in_one_process_holds_in_the_other(
    db_kind: str, tmp_path: Path, settings: FanloopSettings, clock: FakeClock
) -> None:
    async with two_listening_apps(db_kind, tmp_path, settings, clock) as (a, b):
        heard: list[int] = []
        b.changes.subscribe("probe", lambda data: heard.append(int(data["n"])))

        async def settle(n: int) -> None:
            await a.changes.announce("probe", {"n": n})
            start = time.monotonic()
            while n not in heard:
                assert time.monotonic() - start < 10, "B did not hear A"
                await asyncio.sleep(0.01)

        fan_b = await member(b, "bob")
        admin = await member(a, "admin")
        cid, bob = fan_b.community.id, fan_b.member.account_id
        mutes_a, mutes_b = a.services.get(MuteService), b.services.get(MuteService)
        await mutes_b.check(fan_b, "cmd:vote")  # B reads (and keeps) "nobody is muted"

        await mutes_a.mute(cid, bob, timedelta(hours=2), "spam", admin.member.account_id)
        await settle(1)
        with pytest.raises(UserError) as refused:
            await mutes_b.check(fan_b, "cmd:vote")
        assert refused.value.key == "mute.active" and refused.value.params["reason"] == "spam"

        await mutes_a.unmute(cid, bob)
        await settle(2)
        await mutes_b.check(fan_b, "cmd:vote")  # lifted everywhere
