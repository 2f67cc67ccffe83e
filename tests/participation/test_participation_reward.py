"""F-codes for the top N of a period in one owner command, through whichever cog issues them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App
from bot.core.errors import UserError
from bot.core.fcodes import FCodeIssuer
from config.settings import FanloopSettings
from tests.participation.support import ListSource, run, said


@pytest.fixture
def settings(tmp_path: Path) -> FanloopSettings:
    # Without the drops cog: F-codes come from the stand-in issuer below, or from nobody.
    cogs = ["cogs.meta", "cogs.community", "cogs.suggestions", "cogs.participation"]
    return FanloopSettings(data_dir=tmp_path / "data", cogs=cogs)


class Issuer:
    """Stands in for the drops cog."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int, list[int], int]] = []
        self.drops = {7}

    async def issue_fcodes(
        self, community_id: int, drop_id: int, account_ids: list[int], actor: int
    ) -> dict[int, str]:
        if drop_id not in self.drops:
            raise UserError("error.action.unknown")
        self.calls.append((community_id, drop_id, list(account_ids), actor))
        return {a: f"F-{drop_id}-{a:04d}" for a in account_ids}


async def _standings(console: ConsoleAdapter, app: App) -> dict[str, int]:
    await run(console, "/as ann fan\n/as ben fan\n/as cat fan\n/as dov fan\n/as you")
    ids = {n: (await console.context(n)).member.account_id for n in ("ann", "ben", "cat", "dov")}
    cid = (await console.context()).community.id
    source = ListSource(cid)
    app.contribution_sources.append(source)
    now = app.clock.now()
    # ann 9, cat 6 (first), ben 6, dov 3
    for ref in ("a", "b", "c"):
        source.add(ids["ann"], "report", now, ref)
    for minute, name in ((0, "cat"), (5, "ben")):
        for ref in ("a", "b"):
            source.add(ids[name], "report", now.replace(minute=minute), ref)
    source.add(ids["dov"], "report", now, "a")
    return ids


async def test_the_top_n_get_codes_privately_and_only_once(
    console: ConsoleAdapter, app: App
) -> None:
    issuer = Issuer()
    app.services.add(issuer, as_type=FCodeIssuer)
    ids = await _standings(console, app)
    out = await console.handle_line("/points reward 7 top 2 week")
    text = said(out, "channel")
    assert "F-codes for drop #7 sent to the top 2 of this week (2026-11-16 – 2026-11-22)" in text
    assert "ann, cat" in text
    assert "1 more also had 6 points; those who reached it first came first." in text
    assert issuer.calls == [(issuer.calls[0][0], 7, [ids["ann"], ids["cat"]], issuer.calls[0][3])]
    assert issuer.calls[0][3] == (await console.context()).member.account_id
    # Each winner hears privately, with their own code; nobody else does.
    assert f"Your F-code for drop #7: F-7-{ids['ann']:04d}" in said(out, "ann")
    assert "You placed #1 this week" in said(out, "ann")
    assert f"F-7-{ids['cat']:04d}" in said(out, "cat") and "placed #2" in said(out, "cat")
    assert said(out, "ben") == "" and f"F-7-{ids['ann']:04d}" not in said(out, "channel")

    again = await console.handle_line("/points reward 7 2")
    assert again[0].reply.error and "already got F-codes for drop #7" in said(again)
    assert len(issuer.calls) == 1
    other_period = await console.handle_line("/points reward 7 1 all")
    assert "top 1 of all time: ann" in said(other_period)

    unknown_drop = await console.handle_line("/points reward 99 3")
    assert unknown_drop[0].reply.error
    issuer.drops.add(99)  # the drop exists now: the failed try left no mark
    retry = await console.handle_line("/points reward 99 3")
    assert "sent to the top 3 of this week" in said(retry) and "ann, cat, ben" in said(retry)


async def test_without_the_drops_cog_the_answer_says_so(console: ConsoleAdapter, app: App) -> None:
    await _standings(console, app)
    out = await console.handle_line("/points reward 7 3")
    assert out[0].reply.error
    assert "F-codes come from reservation drops, which are not enabled" in said(out)
    await console.handle_line("/language zh_cn")
    zh = await console.handle_line("/points reward 7 3")
    assert "F 码来自预约抢购功能，本社区尚未启用。" in said(zh)


async def test_nobody_to_reward(console: ConsoleAdapter, app: App) -> None:
    app.services.add(Issuer(), as_type=FCodeIssuer)
    out = await console.handle_line("/points reward 7 3")
    assert out[0].reply.error and "Nobody has points in that period yet." in said(out)
    assert (await console.handle_line("/points reward 7 0"))[0].reply.error
