"""The command registry as Discord slash commands, generated from the one declaration.

Each `CommandSpec` becomes an `app_commands.Command` whose options are typed from its `Param`s
with their limits; "drop create" becomes the subcommand `create` of the group `drop`. Names,
descriptions and choice labels are `locale_str`s carrying their catalog keys, which live in the
catalog of the cog that declares the command (the adapter's own catalog holds only its messages):

- descriptions: the command's `help_key`, the parameter's `help_key`;
- names: `discord.name.<command>` (a subcommand: `discord.name.drop.create`), options
  `discord.option.<command>.<param>` (`discord.option.drop.create.quota`);
- choice labels: `discord.choice.<command>.<param>.<value>`, else the cog's own label
  `<param>.<value>` (e.g. `status.planned`);
- groups: `discord.name.<group>`; descriptions `help.<group>`, then `discord.group.<group>`.

The keys are spelled in one place (`translate`: `name_key`, `option_key`, `choice_keys`,
`form_key`), shared with the modal forms.

Admin and owner commands carry `default_member_permissions` (Manage Server, Administrator), so
Discord hides them from fans; the dispatcher checks the role again on every use. A parameter
with an autocomplete is a text option (so members can search by words: a suggestion's title for
its id) whose suggestions come from the parameter's own autocomplete; forms have no options.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import discord
from discord import app_commands

from bot.adapters.discord.translate import (
    Strings,
    choice_keys,
    localized,
    name_key,
    option_key,
)
from bot.core.app import App
from bot.core.commands import CommandSpec, Param, ParamType, Role, int_range

PERMISSIONS = {
    Role.ADMIN: discord.Permissions(manage_guild=True),
    Role.OWNER: discord.Permissions(administrator=True),
}
TEXT_MAX = 6000
Callback = Callable[..., Coroutine[Any, Any, None]]
AutocompleteCallback = Callable[
    [discord.Interaction, str], Coroutine[Any, Any, list[app_commands.Choice[str]]]
]


class CommandCallbacks(Protocol):
    """What runs a synced command: the adapter's interaction handling."""

    async def command(
        self, interaction: discord.Interaction, spec: CommandSpec, values: dict[str, Any]
    ) -> None: ...

    async def form(self, interaction: discord.Interaction, spec: CommandSpec) -> None: ...

    async def autocomplete(
        self, interaction: discord.Interaction, param: Param, current: str
    ) -> list[app_commands.Choice[str]]: ...


def annotation(p: Param) -> Any:
    """The discord.py annotation of a parameter: its option type and limits."""
    t = p.type
    if p.autocomplete is not None:
        return app_commands.Range[str, 1, 100]
    if t is ParamType.INT:
        low, high = int_range(p)
        return app_commands.Range[int, low, high]
    if t is ParamType.BOOL:
        return bool
    if t is ParamType.MEMBER:
        return discord.Member
    if t is ParamType.TEXT:
        if p.min is None and p.max is None:
            return str
        return app_commands.Range[str, p.min, min(p.max or TEXT_MAX, TEXT_MAX)]
    if t is ParamType.DURATION:
        return app_commands.Range[str, 1, 32]
    if t is ParamType.DATETIME:
        return app_commands.Range[str, 1, 40]
    return str  # CHOICE


class SchemaBuilder:
    def __init__(self, app: App, callbacks: CommandCallbacks) -> None:
        self.app = app
        self.callbacks = callbacks
        self.strings = Strings(app.translator)

    def commands(self) -> list[app_commands.Command[Any, ..., Any] | app_commands.Group]:
        top: list[app_commands.Command[Any, ..., Any] | app_commands.Group] = []
        groups: dict[str, app_commands.Group] = {}
        specs = [s for s in self.app.commands.all() if not s.platforms or "discord" in s.platforms]
        for spec in specs:
            if spec.group is None:
                top.append(self.command(spec, None))
                continue
            group = groups.get(spec.group)
            if group is None:
                members = [s for s in specs if s.group == spec.group]
                group = groups[spec.group] = self.group(spec.group, min(s.role for s in members))
                top.append(group)
            group.add_command(self.command(spec, group))
        return top

    def group(self, name: str, role: Role) -> app_commands.Group:
        return app_commands.Group(
            name=self.strings.name(name, name_key(name)),
            description=self.strings.description(
                f"help.{name}", f"discord.group.{name}", default=f"/{name} …"
            ),
            default_permissions=PERMISSIONS.get(role),
        )

    def command(
        self, spec: CommandSpec, parent: app_commands.Group | None
    ) -> app_commands.Command[Any, ..., Any]:
        cmd: app_commands.Command[Any, ..., Any] = app_commands.Command(
            name=self.strings.name(spec.leaf, name_key(spec.name)),
            description=self.strings.description(spec.help_key, default=spec.name),
            callback=self.callback(spec),
            parent=parent,
            extras={"spec": spec.name},
        )
        if parent is None:
            cmd.default_permissions = PERMISSIONS.get(spec.role)
        return cmd

    def callback(self, spec: CommandSpec) -> Callback:
        callbacks = self.callbacks
        if spec.form:

            async def open_form(interaction: discord.Interaction) -> None:
                await callbacks.form(interaction, spec)

            open_form.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
                [_interaction_param()]
            )
            return open_form

        async def run(interaction: discord.Interaction, **values: Any) -> None:
            await callbacks.command(interaction, spec, values)

        params = [_interaction_param()]
        for p in spec.params:
            ann = annotation(p)
            params.append(
                inspect.Parameter(
                    p.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=ann if p.required else ann | None,
                    default=inspect.Parameter.empty if p.required else None,
                )
            )
        run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        return self.decorate(spec, run)

    def decorate(self, spec: CommandSpec, fn: Callback) -> Callback:
        if not spec.params:
            return fn
        s = self.strings
        fn = app_commands.describe(
            **{p.name: s.description(p.help_key, default=p.name) for p in spec.params}
        )(fn)
        fn = app_commands.rename(
            **{p.name: s.name(p.name, option_key(spec, p)) for p in spec.params}
        )(fn)
        choices = {
            p.name: [self.choice(spec, p, value) for value in p.choices]
            for p in spec.params
            if p.type is ParamType.CHOICE and p.choices
        }
        if choices:
            fn = app_commands.choices(**choices)(fn)
        completed = {p.name: self.autocomplete(p) for p in spec.params if p.autocomplete}
        if completed:
            fn = app_commands.autocomplete(**completed)(fn)
        return fn

    def autocomplete(self, p: Param) -> AutocompleteCallback:
        callbacks = self.callbacks

        async def complete(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return await callbacks.autocomplete(interaction, p, current)

        return complete

    def choice(self, spec: CommandSpec, p: Param, value: str) -> app_commands.Choice[str]:
        text, key = self.strings.text(*choice_keys(spec, p, value))
        return app_commands.Choice(name=localized(text or value, key), value=value)


def _interaction_param() -> inspect.Parameter:
    return inspect.Parameter(
        "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
    )
