"""The audit log is written where commands and buttons are dispatched: a command added later is
audited with no code of its own, and a log that cannot be written does not undo the action."""

from __future__ import annotations

import logging

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.core.actions import ActionSpec
from bot.core.app import App
from bot.core.commands import CommandSpec, Param, ParamType, Role
from bot.core.context import Context
from bot.core.reply import Button, Reply


async def _award(ctx: Context, member: str, points: int, why: str) -> Reply:
    return Reply(text=f"awarded {points}", buttons=[Button("undo", "zu:7")])


async def _undo(ctx: Context, args: list[str]) -> Reply:
    return Reply(text="undone")


def _declare(app: App) -> None:
    params = (
        Param("member", ParamType.MEMBER, "param.moderation.member"),
        Param("points", ParamType.INT, "param.audit.limit"),
        Param("why", ParamType.TEXT, "param.moderation.reason", rest=True),
    )
    app.commands.add(CommandSpec("award", "help.audit", _award, params, role=Role.OWNER))
    app.actions.add(ActionSpec("zu", _undo, role=Role.ADMIN))


async def test_a_new_owner_command_and_admin_button_are_audited(
    app: App, console: ConsoleAdapter
) -> None:
    _declare(app)
    await console.handle_line("/as bob fan")
    await console.handle_line("/as olga owner")
    await console.handle_line("/award bob 5 great bug report")
    await console.handle_line("!1")
    out = await console.handle_line("/audit")
    lines = out[0].reply.plain_text().splitlines()
    assert "olga (owner) · pressed zu (zu:7)" in lines[1]
    assert 'olga (owner) · /award member=bob points=5 why="great bug report" → bob' in lines[2]
    assert "/award" in (await console.handle_line("/audit bob"))[0].reply.plain_text()


async def test_a_failed_log_write_does_not_fail_the_action(
    app: App, console: ConsoleAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    _declare(app)

    async def broken(**_: object) -> None:
        raise RuntimeError("disk full")

    app.audit.repo.add = broken  # type: ignore[method-assign]
    await console.handle_line("/as olga owner")
    with caplog.at_level(logging.ERROR):
        out = await console.handle_line("/award olga 1 test")
    assert out[0].reply.plain_text() == "awarded 1"
    assert "could not write the audit log" in caplog.text
