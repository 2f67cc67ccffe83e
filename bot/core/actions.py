"""Button and select actions: `prefix:arg:arg`, stateless so they keep working after a restart."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.commands import Role, parse_int
from bot.core.errors import UserError
from bot.core.reply import check_action

if TYPE_CHECKING:
    from bot.core.context import Context
    from bot.core.reply import Reply

ActionHandler = Callable[["Context", list[str]], Awaitable["Reply"]]
ReplyHook = Callable[["Context", list[str], str], Awaitable["Reply | None"]]
# (context, action args, the label shown) -> the label to show now, or None to keep it.
LabelRefresher = Callable[["Context", list[str], str], Awaitable["str | None"]]


def make_action(prefix: str, *args: object) -> str:
    return check_action(":".join([prefix, *(str(a) for a in args)]))


def split_action(action: str) -> tuple[str, list[str]]:
    prefix, _, rest = action.partition(":")
    return prefix, rest.split(":") if rest else []


def int_args(args: list[str], count: int) -> list[int]:
    """The first `count` arguments of an action as whole numbers (ids, a page, a grid), each
    within the range the database stores (`commands.INT_MAX`). An action the bot did not make,
    forged or cut short, is refused with the localized `error.action.unknown`."""
    values = [parse_int(a) for a in args[:count]]
    if len(values) != count or any(v is None for v in values):
        raise UserError("error.action.unknown")
    return [v for v in values if v is not None]


def int_arg(args: list[str]) -> int:
    """The first argument of an action as an id (see `int_args`)."""
    return int_args(args, 1)[0]


@dataclass(frozen=True)
class ActionSpec:
    prefix: str
    handler: ActionHandler
    role: Role = Role.FAN
    rate: tuple[int, float] | None = None
    # An admin button is recorded in the audit log when it succeeds (bot/core/audit.py).
    audit: bool = True


class ActionRegistry:
    def __init__(self) -> None:
        self._actions: dict[str, ActionSpec] = {}
        self._reply_hooks: dict[str, ReplyHook] = {}
        self._refreshers: dict[str, LabelRefresher] = {}

    def add(self, spec: ActionSpec) -> None:
        if spec.prefix in self._actions:
            raise ValueError(f"action prefix {spec.prefix!r} registered twice")
        self._actions[spec.prefix] = spec

    def get(self, prefix: str) -> ActionSpec | None:
        return self._actions.get(prefix)

    def all(self) -> list[ActionSpec]:
        return sorted(self._actions.values(), key=lambda s: s.prefix)

    def add_reply_hook(self, subject_prefix: str, hook: ReplyHook) -> None:
        """Route replies to a message about `subject_prefix:…` (e.g. "+1" to a suggestion)."""
        self._reply_hooks[subject_prefix] = hook

    def reply_hook(self, subject_prefix: str) -> ReplyHook | None:
        return self._reply_hooks.get(subject_prefix)

    def reply_subjects(self) -> list[str]:
        """The subject prefixes that replies are routed for."""
        return sorted(self._reply_hooks)

    def add_label_refresher(self, prefix: str, refresher: LabelRefresher) -> None:
        """Buttons with `prefix:…` actions show live state (a vote count): an adapter that can
        edit a message it sent asks the refresher for their current labels after a change."""
        self._refreshers[prefix] = refresher

    def label_refresher(self, prefix: str) -> LabelRefresher | None:
        return self._refreshers.get(prefix)
