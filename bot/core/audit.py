"""The audit log's writer: every admin or owner command and button that succeeds is recorded
by the dispatcher (who, when, where, the command and its arguments, the member it named), so a
command added later is audited with no code of its own. `/audit` (cogs/moderation) reads it.

A command that only reads (`/audit`, `/review`) says `audit=False` in its spec.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core.clock import Clock, format_duration
from bot.core.commands import CommandSpec, ParamType, Role
from storage.core.audit import AuditRepo

if TYPE_CHECKING:
    from bot.core.actions import ActionSpec
    from bot.core.context import Context

log = logging.getLogger(__name__)

COMMAND = "command"
BUTTON = "button"


def audited(role: Role, audit: bool) -> bool:
    return audit and role >= Role.ADMIN


def stored_value(value: Any) -> Any:
    """A parameter's value as the log keeps it (JSON), readable as typed."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, timedelta):
        return format_duration(value.total_seconds())
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    return str(value)


class AuditLog:
    def __init__(self, repo: AuditRepo, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock

    async def command(self, ctx: Context, spec: CommandSpec, params: dict[str, Any]) -> None:
        by_admin = spec.audit_admins and ctx.member.role >= Role.ADMIN
        if not (audited(spec.role, spec.audit) or by_admin):
            return
        if spec.audit_params is not None:
            params = spec.audit_params(ctx, params)
        # In the order of the command's parameters, as it would be typed.
        args = [
            [p.name, stored_value(params[p.name])]
            for p in spec.params
            if params.get(p.name) is not None
        ]
        target = None
        for p in spec.params:
            if p.type is ParamType.MEMBER and isinstance(params.get(p.name), str):
                target = await ctx.identity.find_by_name(ctx.community.id, params[p.name])
                break
        await self._add(ctx, COMMAND, spec.name, args, target)

    async def button(self, ctx: Context, spec: ActionSpec, action: str) -> None:
        if not audited(spec.role, spec.audit):
            return
        await self._add(ctx, BUTTON, spec.prefix, [["action", action]], None)

    async def _add(
        self, ctx: Context, kind: str, name: str, args: list[list[Any]], target: int | None
    ) -> None:
        # The effect is done: a log that cannot be written is reported, not made the
        # member's error.
        try:
            await self.repo.add(
                community_id=ctx.community.id,
                actor_id=ctx.member.account_id,
                actor_name=ctx.member.display_name,
                role=ctx.member.role.name.lower(),
                platform=ctx.platform,
                kind=kind,
                name=name,
                args=args,
                target_id=target,
                at=self.clock.now(),
            )
        except Exception:
            log.exception("could not write the audit log for %s %s", kind, name)
