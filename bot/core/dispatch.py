"""One way in for every adapter: commands, button actions and replies to the bot's messages.

Role checks, rate limits and the error path live here, so no adapter or cog repeats them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from bot.core.actions import split_action
from bot.core.command_list import group_list
from bot.core.commands import CommandSpec, Role, parse_args, split_line
from bot.core.errors import PermissionDenied, RateLimited, Term, UserError, log_unexpected
from bot.core.metrics import BUTTON, COMMAND, FAILED, OK, REPLY
from bot.core.metrics import REFUSED as REFUSED_OUTCOME
from bot.core.reply import Reply

if TYPE_CHECKING:
    from bot.core.app import App
    from bot.core.context import Context

log = logging.getLogger(__name__)


def storable(text: str) -> str:
    """`text` without NUL characters, which PostgreSQL cannot store in text (and no one types on
    purpose), and with any lone surrogate (a JSON escape such as "\\ud800" that pairs with
    nothing, which no database can store as UTF-8) shown as U+FFFD: every text a member sends
    goes through here before a handler sees it."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():
        text = _SURROGATE.sub("\ufffd", text)
    return text


_SURROGATE = re.compile("[\ud800-\udfff]")  # in a str, a surrogate is always a lone one


DEFAULT_COMMAND_RATE = (20, 60.0)
DEFAULT_ACTION_RATE = (60, 60.0)
# A command or button refused with a UserError (a typo, a value out of range) does not count
# toward its own limit; these count toward one budget per member instead, so a flood of
# refused attempts is still slowed down.
REFUSED_RATE = (60, 60.0)
REFUSED = "refused"
GUARD = (REFUSED, *REFUSED_RATE)
# The task in which a guard runs: a guard inside it in the same task (the dispatcher's, under
# an adapter's) counts nothing. (A task started meanwhile inherits the value, not the task.)
_COUNTED: ContextVar[object] = ContextVar("fanloop_guard_counted", default=None)


def user_message(ctx: Context, exc: UserError) -> str:
    """A UserError in the member's language, its parameter names too: "名额（quota）"."""
    params = {k: term(ctx, v) if isinstance(v, Term) else v for k, v in exc.params.items()}
    return ctx.t(exc.key, **params)


def term(ctx: Context, value: Term) -> str:
    """A parameter's name in the member's language, with the name typed in `key=value` after it
    where the two differ."""
    if not ctx.translator.has(value.key):
        return str(value)
    label = ctx.t(value.key)
    return str(value) if label == value else ctx.t("param.label", label=label, name=str(value))


class Dispatcher:
    def __init__(self, app: App) -> None:
        self.app = app

    async def guard(
        self, ctx: Context, where: str, fn: Callable[[], Awaitable[Reply]], kind: str = COMMAND
    ) -> Reply:
        """Run `fn`; a UserError becomes its message, anything else a logged reference. Counted
        once (`kind`, outcome, time taken) in the App's metrics: an adapter's guard around
        `run` (to check what it adds, Discord's options say) is the one that counts."""
        task = asyncio.current_task()
        if _COUNTED.get() is task:
            return (await self._guarded(ctx, where, fn))[0]
        token = _COUNTED.set(task)
        started = time.perf_counter()
        try:
            reply, outcome = await self._guarded(ctx, where, fn)
        finally:
            _COUNTED.reset(token)
        elapsed = time.perf_counter() - started
        self.app.metrics.interaction(ctx.platform, kind, outcome, elapsed)
        return reply

    async def _guarded(
        self, ctx: Context, where: str, fn: Callable[[], Awaitable[Reply]]
    ) -> tuple[Reply, str]:
        try:
            reply = await fn()
            return await self.app.web_links.apply(ctx.community.id, reply, ctx.locale), OK
        except UserError as exc:
            return Reply(text=user_message(ctx, exc), ephemeral=True, error=True), REFUSED_OUTCOME
        except Exception as exc:
            ref = log_unexpected(exc, where)
            text = ctx.t("error.unexpected", ref=ref)
            return Reply(text=text, ephemeral=True, error=True), FAILED

    def check_role(self, ctx: Context, needed: Role) -> None:
        if ctx.member.role < needed:
            raise PermissionDenied("error.permission", role=ctx.t(f"role.{needed.name.lower()}"))

    async def run(self, ctx: Context, spec: CommandSpec, params: dict[str, Any]) -> Reply:
        """Run a command whose parameters the adapter already typed (Discord options)."""
        params = {k: storable(v) if isinstance(v, str) else v for k, v in params.items()}

        async def go() -> Reply:
            await self._admit(ctx, spec)
            async with self._refunded(ctx, f"cmd:{spec.name}"):
                await self._check_admission(ctx, f"cmd:{spec.name}")
                reply = await spec.handler(ctx, **params)
            await self.app.audit.command(ctx, spec, params)
            return reply

        return await self.guard(ctx, f"/{spec.name}", go)

    async def run_line(self, ctx: Context, line: str) -> Reply:
        """Run `/name args…` typed as text (console, Telegram)."""
        line = storable(line)

        async def go() -> Reply:
            tokens = split_line(line.strip().lstrip("/"))
            spec, rest = self.app.commands.resolve(tokens)
            if spec is None:
                if tokens and len(tokens) == 1 and (listing := group_list(ctx, tokens[0])):
                    return listing  # `/drop` alone: the drop commands
                if tokens and ctx.commands.groups().get(tokens[0].lower()):
                    raise UserError("error.command.unknown_in_group", group=tokens[0].lower())
                raise UserError("error.command.unknown", name=tokens[0] if tokens else "")
            await self._admit(ctx, spec)
            async with self._refunded(ctx, f"cmd:{spec.name}"):
                await self._check_admission(ctx, f"cmd:{spec.name}")
                tz = await self.app.community_tz(ctx.community.id)
                params = parse_args(spec, rest, tz=tz)
                reply = await spec.handler(ctx, **params)
            await self.app.audit.command(ctx, spec, params)
            return reply

        return await self.guard(ctx, line.split(" ", 1)[0], go)

    async def _admit(self, ctx: Context, spec: CommandSpec) -> None:
        if spec.platforms and ctx.platform not in spec.platforms:
            raise UserError("error.command.platform", name=spec.name)
        self.check_role(ctx, spec.role)
        calls, seconds = spec.rate or DEFAULT_COMMAND_RATE
        await self.app.rate_limits.admit(
            ctx.member.account_id, f"cmd:{spec.name}", calls, seconds, GUARD
        )

    async def _check_admission(self, ctx: Context, what: str) -> None:
        """The cogs' admission checks (a muted member may not vote): each raises a UserError
        to refuse. `what` is `cmd:<name>`, `act:<prefix>` or `reply:<subject prefix>`."""
        for check in self.app.admission_checks:
            await check(ctx, what)

    @contextlib.asynccontextmanager
    async def _refunded(self, ctx: Context, bucket: str) -> AsyncIterator[None]:
        """A UserError raised inside gives the call back to `bucket` and counts it as refused."""
        try:
            yield
        except UserError as exc:
            if not isinstance(exc, RateLimited):
                await self.app.rate_limits.refused(ctx.member.account_id, bucket, GUARD)
            raise

    async def press(self, ctx: Context, action: str) -> Reply:
        """A button or select option was pressed."""
        action = storable(action)

        async def go() -> Reply:
            prefix, args = split_action(action)
            spec = self.app.actions.get(prefix)
            if spec is None:
                raise UserError("error.action.unknown")
            self.check_role(ctx, spec.role)
            calls, seconds = spec.rate or DEFAULT_ACTION_RATE
            await self.app.rate_limits.admit(
                ctx.member.account_id, f"act:{prefix}", calls, seconds, GUARD
            )
            async with self._refunded(ctx, f"act:{prefix}"):
                await self._check_admission(ctx, f"act:{prefix}")
                reply = await spec.handler(ctx, args)
            await self.app.audit.button(ctx, spec, action)
            return reply

        return await self.guard(ctx, f"action {action}", go, BUTTON)

    def refreshes(self, action: str) -> bool:
        """Whether buttons with this action show live state (see `relabel`)."""
        return self.app.actions.label_refresher(split_action(action)[0]) is not None

    async def relabel(self, ctx: Context, action: str, label: str) -> str | None:
        """The label a button with `action`, now showing `label`, should show; None to keep it
        (no refresher, nothing known, or an error: a stale label is better than none)."""
        prefix, args = split_action(action)
        refresher = self.app.actions.label_refresher(prefix)
        if refresher is None:
            return None
        try:
            return await refresher(ctx, args, label)
        except UserError:
            return None
        except Exception as exc:
            log_unexpected(exc, f"relabel {action}")
            return None

    async def on_reply(self, ctx: Context, subject: str, text: str) -> Reply | None:
        """A member replied to a message of the bot's that is about `subject` ("sg:12")."""
        subject, text = storable(subject), storable(text)
        prefix, args = split_action(subject)
        hook = self.app.actions.reply_hook(prefix)
        if hook is None:
            return None
        result: Reply | None = None

        async def go() -> Reply:
            nonlocal result
            await self._check_admission(ctx, f"reply:{prefix}")
            result = await hook(ctx, args, text)
            return result or Reply()

        reply = await self.guard(ctx, f"reply to {subject}", go, REPLY)
        return reply if (result is not None or reply.error) else None
