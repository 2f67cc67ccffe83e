"""The commands a member may use, as a list: /help's, and a command group's own (`/drop` alone,
or `/help drop`, lists the drop commands)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.core.commands import CommandSpec
from bot.core.reply import Reply

if TYPE_CHECKING:
    from bot.core.context import Context


def visible(ctx: Context, specs: Iterable[CommandSpec]) -> list[CommandSpec]:
    """The commands of `specs` this member's role allows on this platform."""
    return [
        s
        for s in specs
        if s.role <= ctx.member.role and (not s.platforms or ctx.platform in s.platforms)
    ]


def command_list(ctx: Context, specs: Iterable[CommandSpec], title: str) -> Reply:
    text = "\n".join(f"/{s.name} — {ctx.t(s.help_key)}" for s in visible(ctx, specs))
    return Reply(title=title, text=text, footer=ctx.t("help.footer"), ephemeral=True)


def group_list(ctx: Context, group: str) -> Reply | None:
    """The list of a command group's commands (None when `group` is not a group)."""
    specs = ctx.commands.groups().get(group.lstrip("/").lower())
    if specs is None:
        return None
    return command_list(ctx, specs, ctx.t("help.group_title", group=group.lstrip("/").lower()))
