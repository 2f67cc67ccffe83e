"""Forms in a private chat: a command declared as a form, sent without arguments, asks for each
parameter in turn. A bad value is asked for again with the reason; answers given so far stay."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.core.commands import CommandSpec, Param, ParamType, convert
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.reply import Reply

FORM_TTL = timedelta(minutes=30)


@dataclass
class FormState:
    spec: CommandSpec
    started: datetime
    values: dict[str, Any] = field(default_factory=dict)
    index: int = 0

    @property
    def param(self) -> Param:
        return self.spec.params[self.index]

    @property
    def done(self) -> bool:
        return self.index >= len(self.spec.params)


@dataclass(frozen=True)
class Step:
    """What the adapter does next: show `reply`, and run the command when `ready`."""

    reply: Reply | None = None
    ready: FormState | None = None


class Forms:
    def __init__(self) -> None:
        self._open: dict[int, FormState] = {}

    def active(self, user_id: int, now: datetime) -> FormState | None:
        state = self._open.get(user_id)
        if state is not None and now - state.started > FORM_TTL:
            del self._open[user_id]
            return None
        return state

    def start(self, ctx: Context, user_id: int, spec: CommandSpec) -> Reply:
        state = FormState(spec, ctx.now())
        self._open[user_id] = state
        return prompt(ctx, state)

    def cancel(self, user_id: int) -> bool:
        return self._open.pop(user_id, None) is not None

    async def answer(self, ctx: Context, user_id: int, text: str) -> Step:
        state = self.active(user_id, ctx.now())
        if state is None:
            return Step()
        param = state.param
        try:
            tz = await ctx.app.community_tz(ctx.community.id)
            state.values[param.name] = convert(param, text, tz=tz)
        except UserError as exc:
            return Step(prompt(ctx, state, error=ctx.t(exc.key, **exc.params)))
        return self._advance(ctx, user_id, state)

    def skip(self, ctx: Context, user_id: int) -> Step:
        state = self.active(user_id, ctx.now())
        if state is None:
            return Step()
        if state.param.required:
            error = ctx.t("telegram.form.required", name=_label(ctx, state.param))
            return Step(prompt(ctx, state, error=error))
        state.values[state.param.name] = state.param.default
        return self._advance(ctx, user_id, state)

    def _advance(self, ctx: Context, user_id: int, state: FormState) -> Step:
        state.index += 1
        if state.done:
            del self._open[user_id]
            return Step(ready=state)
        return Step(prompt(ctx, state))


def _label(ctx: Context, param: Param) -> str:
    return ctx.t(param.help_key) if param.help_key else param.name


def prompt(ctx: Context, state: FormState, *, error: str = "") -> Reply:
    t = ctx.t
    param = state.param
    hints: list[str] = []
    if param.choices:
        hints.append(t("telegram.form.choices", choices=", ".join(param.choices)))
    elif param.type is ParamType.TEXT and param.max is not None:
        hints.append(t("telegram.form.length", min=param.min or 0, max=param.max))
    elif param.type is ParamType.DURATION:
        hints.append(t("telegram.form.duration"))
    elif param.type is ParamType.DATETIME:
        hints.append(t("telegram.form.datetime"))
    if not param.required:
        hints.append(t("telegram.form.optional"))
    hints.append(t("telegram.form.cancel"))
    text = t("telegram.form.ask", question=_label(ctx, param))
    if error:
        text = f"{error}\n{text}"
    return Reply(
        title=t(
            "telegram.form.title",
            command=f"/{state.spec.name}",
            step=state.index + 1,
            total=len(state.spec.params),
        ),
        text=text,
        footer="\n".join(hints),
        ephemeral=True,
        error=bool(error),
    )
