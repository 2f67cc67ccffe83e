"""Help, the member's own language, and notification preferences."""

from __future__ import annotations

from bot.core.command_list import command_list, group_list
from bot.core.commands import CommandSpec, Param, ParamType, label_key
from bot.core.context import Context
from bot.core.dispatch import term
from bot.core.errors import Term, UserError
from bot.core.feature import FeatureSetup
from bot.core.i18n import LOCALES, canonical_locale
from bot.core.reply import Reply

# What members type for a language besides its code.
LANGUAGE_ALIASES = (
    tuple(
        (word, "zh_cn")
        for word in ("zh", "cn", "zh_hans", "zh_sg", "chinese", "中文", "简体中文", "简体", "汉语")
    )
    + tuple(
        (word, "zh_tw")
        for word in ("tw", "zh_hant", "zh_hk", "zh_mo", "繁體中文", "繁体中文", "繁體", "繁体")
    )
    + tuple((word, "en") for word in ("en_us", "en_gb", "english", "英文", "英语", "英語"))
)


def usage(ctx: Context, spec: CommandSpec) -> str:
    parts = [f"/{spec.name}"]
    for p in spec.params:
        parts.append(f"<{p.name}>" if p.required else f"[{p.name}]")
    return " ".join(parts)


async def help_(ctx: Context, command: str | None = None) -> Reply:
    registry = ctx.commands
    if command:
        spec = registry.get(" ".join(command.lstrip("/").lower().split()))
        if spec is None:
            group = group_list(ctx, command)
            if group is not None:
                return group
            raise UserError("error.command.unknown", name=command)
        lines = [ctx.t(spec.help_key), "", usage(ctx, spec)]
        for p in spec.params:
            desc = ctx.t(p.help_key) if p.help_key else ""
            limits = ""
            if p.choices:
                limits = " (" + " | ".join(p.choices) + ")"
            elif p.max is not None and p.type is ParamType.TEXT:
                limits = " " + ctx.t("help.limit_text", min=p.min or 0, max=p.max)
            lines.append(f"  {term(ctx, Term(p.name, label_key(spec, p)))}: {desc}{limits}")
        return Reply(title=f"/{spec.name}", text="\n".join(lines), ephemeral=True)
    return command_list(ctx, registry.all(), ctx.t("help.title"))


async def language(ctx: Context, language: str) -> Reply:
    value = canonical_locale(language)
    await ctx.identity.set_account(ctx.member.account_id, locale=value)
    ctx.locale = value
    return Reply(text=ctx.t("language.set"), ephemeral=True)


async def notify(ctx: Context, enabled: bool) -> Reply:
    await ctx.identity.set_account(ctx.member.account_id, notify=enabled)
    return Reply(text=ctx.t("notify.on" if enabled else "notify.off"), ephemeral=True)


def setup(feature: FeatureSetup) -> None:
    feature.commands.add(
        CommandSpec(
            "help",
            "help.help",
            help_,
            (Param("command", ParamType.TEXT, "param.command", required=False, max=40, rest=True),),
        )
    )
    feature.commands.add(
        CommandSpec(
            "language",
            "help.language",
            language,
            (
                Param(
                    "language",
                    ParamType.CHOICE,
                    "param.language",
                    choices=tuple(loc.lower() for loc in LOCALES),
                    aliases=LANGUAGE_ALIASES,
                ),
            ),
        )
    )
    feature.commands.add(
        CommandSpec(
            "notify",
            "help.notify",
            notify,
            (Param("enabled", ParamType.BOOL, "param.notify"),),
        )
    )
