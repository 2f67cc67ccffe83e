"""Forms in a private chat: a command declared as a form, sent without arguments, asks for each
parameter in turn. A bad value is asked for again with the reason; answers given so far stay.

A form in progress is kept in the database (`telegram_forms`), so a restart of the bot does not
lose it: the member's next message answers the step they were asked. Answers are stored as
typed and converted again when the form is complete. A form lapses when it is left alone for
`FORM_TTL`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.core.commands import CommandRegistry, CommandSpec, Param, ParamType, convert
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.reply import Reply
from storage.platform.telegram_forms import SavedForm, TelegramFormsRepo

FORM_TTL = timedelta(minutes=30)


@dataclass
class FormState:
    spec: CommandSpec
    expires_at: datetime
    # Parameter name → the answer as typed; None for a field left out.
    answers: dict[str, str | None] = field(default_factory=dict)
    index: int = 0

    @property
    def param(self) -> Param:
        return self.spec.form_params[self.index]

    @property
    def done(self) -> bool:
        return self.index >= len(self.spec.form_params)


@dataclass(frozen=True)
class Ready:
    """A complete form: the command and its converted parameters."""

    spec: CommandSpec
    values: dict[str, Any]


@dataclass(frozen=True)
class Step:
    """What the adapter does next: show `reply`, and run the command when `ready`."""

    reply: Reply | None = None
    ready: Ready | None = None


class Forms:
    def __init__(
        self, repo: TelegramFormsRepo, commands: CommandRegistry, ttl: timedelta = FORM_TTL
    ) -> None:
        self.repo = repo
        self.commands = commands
        self.ttl = ttl

    async def active(self, user_id: int, now: datetime) -> FormState | None:
        """The member's form in progress; None (and forgotten) once it has lapsed."""
        saved = await self.repo.get(str(user_id))
        if saved is None:
            return None
        spec = self.commands.get(saved.command)
        if (
            saved.expires_at <= now
            or spec is None
            or not spec.form
            or not 0 <= saved.step < len(spec.form_params)
        ):
            await self.repo.delete(str(user_id))
            return None
        return FormState(spec, saved.expires_at, dict(saved.answers), saved.step)

    async def start(self, ctx: Context, user_id: int, spec: CommandSpec) -> Reply:
        state = FormState(spec, ctx.now() + self.ttl)
        await self._save(user_id, state)
        return prompt(ctx, state)

    async def cancel(self, user_id: int) -> bool:
        return await self.repo.delete(str(user_id))

    async def purge(self, now: datetime) -> int:
        """Forget the forms that lapsed (members who never came back)."""
        return await self.repo.delete_expired(now)

    async def answer(self, ctx: Context, user_id: int, text: str) -> Step | None:
        """The member's answer to the step asked; None when no form is in progress."""
        state = await self.active(user_id, ctx.now())
        if state is None:
            return None
        param = state.param
        try:
            tz = await ctx.timezone()
            convert(param, text, tz=tz)
        except UserError as exc:
            return Step(prompt(ctx, state, error=ctx.t(exc.key, **exc.params)))
        state.answers[param.name] = text
        return await self._advance(ctx, user_id, state)

    async def skip(self, ctx: Context, user_id: int) -> Step | None:
        """/skip: leave out an optional field; None when no form is in progress."""
        state = await self.active(user_id, ctx.now())
        if state is None:
            return None
        if state.param.required:
            error = ctx.t("telegram.form.required", name=_label(ctx, state.param))
            return Step(prompt(ctx, state, error=error))
        state.answers[state.param.name] = None
        return await self._advance(ctx, user_id, state)

    async def _advance(self, ctx: Context, user_id: int, state: FormState) -> Step:
        state.index += 1
        if not state.done:
            state.expires_at = ctx.now() + self.ttl
            await self._save(user_id, state)
            return Step(prompt(ctx, state))
        tz = await ctx.timezone()
        values: dict[str, Any] = {}
        for param in state.spec.params:  # those left out of the form take their default
            if param.name not in state.answers:
                values[param.name] = param.default
        for index, param in enumerate(state.spec.form_params):
            raw = state.answers.get(param.name)
            try:
                values[param.name] = param.default if raw is None else convert(param, raw, tz=tz)
            except UserError as exc:  # e.g. the community's time zone changed meanwhile
                state.index = index
                await self._save(user_id, state)
                return Step(prompt(ctx, state, error=ctx.t(exc.key, **exc.params)))
        await self.repo.delete(str(user_id))
        return Step(ready=Ready(state.spec, values))

    async def _save(self, user_id: int, state: FormState) -> None:
        await self.repo.save(
            SavedForm(str(user_id), state.spec.name, state.index, state.expires_at, state.answers)
        )


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
            total=len(state.spec.form_params),
        ),
        text=text,
        footer="\n".join(hints),
        ephemeral=True,
        error=bool(error),
    )
