"""The one error path, role checks and rate limits, through the dispatcher."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import CommandSpec, Role
from bot.core.context import Context
from bot.core.reply import Reply
from tests.helpers import member


async def test_every_admin_and_owner_command_is_refused_to_a_fan(app: App) -> None:
    fan = await member(app, "fan")
    guarded = [s for s in app.commands.all() if s.role > Role.FAN]
    assert {"merge", "status", "settings"} <= {s.name for s in guarded}
    for spec in guarded:
        reply = await app.dispatcher.run_line(fan, f"/{spec.name} 1 2 3")
        assert reply.error and reply.ephemeral, spec.name
        assert reply.text == fan.t("error.permission", role=fan.t(f"role.{spec.role.name.lower()}"))


async def test_admin_cannot_run_owner_commands(app: App) -> None:
    admin = await member(app, "admin", Role.ADMIN)
    reply = await app.dispatcher.run_line(admin, "/settings language zh_cn")
    assert reply.error and "owner" in reply.text


async def test_unexpected_error_is_logged_with_a_reference(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(ctx: Context) -> Reply:
        raise RuntimeError("database on fire")

    app.commands.add(CommandSpec("boom", "help.help", boom))
    ctx = await member(app, "fan")
    with caplog.at_level(logging.ERROR, logger="fanloop"):
        reply = await app.dispatcher.run_line(ctx, "/boom")
    assert reply.error and reply.ephemeral
    ref = re.search(r"[0-9a-f]{8}", reply.text)
    assert ref is not None
    assert any(ref.group(0) in r.getMessage() and r.exc_info for r in caplog.records)
    assert "database on fire" not in reply.text
    ok = await app.dispatcher.run_line(ctx, "/help")  # the bot keeps running
    assert not ok.error


async def test_user_errors_are_localized(app: App) -> None:
    ctx = await member(app, "li")
    await app.dispatcher.run_line(ctx, "/language zh_cn")
    ctx = await member(app, "li")
    assert ctx.locale == "zh_CN"
    reply = await app.dispatcher.run_line(ctx, "/show 99")
    assert reply.error and reply.text == "没有编号为 #99 的需求。"
    reply = await app.dispatcher.run_line(ctx, "/nosuch")
    assert "没有“nosuch”这个命令" in reply.text


async def test_rate_limit_per_member(app: App, clock: FakeClock) -> None:
    ctx = await member(app, "spammer")
    other = await member(app, "calm")
    titles = [f"Idea {n} about something" for n in range(6)]
    replies = [await app.dispatcher.run_line(ctx, f'/suggest "{t}" force') for t in titles]
    assert [r.error for r in replies] == [False] * 5 + [True]
    assert "try again in" in replies[-1].text
    assert not (await app.dispatcher.run_line(other, '/suggest "Unrelated wish here"')).error
    clock.advance(timedelta(minutes=11))
    assert not (await app.dispatcher.run_line(ctx, '/suggest "Later idea entirely"')).error


async def test_unknown_button_is_explained(app: App) -> None:
    ctx = await member(app, "fan")
    reply = await app.dispatcher.press(ctx, "zz:1")
    assert reply.error and reply.text == ctx.t("error.action.unknown")
    reply = await app.dispatcher.press(ctx, "sv:notanumber")
    assert reply.error
