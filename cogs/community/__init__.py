"""Community settings in chat: owners see and change them with /settings."""

from __future__ import annotations

import json
from typing import Any

from bot.core.clock import format_duration
from bot.core.commands import CommandSpec, Param, ParamType, Role
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.feature import FeatureSetup
from bot.core.reply import Field, Reply
from bot.core.settings import SettingSpec

ANNOUNCE = "announce_channel"
RESETS = ("reset", "default", "默认")


def _show(value: object, spec: SettingSpec | None = None) -> str:
    if value is None or value == "":
        return "—"
    if spec is not None and spec.show is not None:
        return spec.show(value)
    if spec is not None and spec.type is ParamType.DURATION and isinstance(value, int | float):
        return format_duration(value)
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


async def settings(ctx: Context, key: str | None = None, value: str | None = None) -> Reply:
    service = ctx.community_settings
    cid = ctx.community.id
    if key == ANNOUNCE:
        return await _announce(ctx, value)
    if key is None:
        values = await service.all(cid)
        fields = [
            Field(f"{s.key} — {ctx.t(s.help_key)}", _show(values[s.key], s))
            for s in service.specs()
        ]
        spaces = await ctx.identity.spaces_of(cid)
        channels = ", ".join(f"{s.platform}: {s.announce_channel or s.space_id}" for s in spaces)
        fields.append(Field(f"{ANNOUNCE} — {ctx.t('setting.announce_channel')}", channels or "—"))
        return Reply(
            title=ctx.t("settings.title", community=ctx.community.name),
            fields=fields,
            footer=ctx.t("settings.footer"),
            ephemeral=True,
        )
    spec = service.spec(key)
    if value is None:
        current = await service.get(cid, key)
        return Reply(text=f"{key} = {_show(current, spec)}\n{ctx.t(spec.help_key)}", ephemeral=True)
    if value.lower() in RESETS:
        new = await service.reset(cid, key)
    else:
        new = await service.set(cid, key, value)
    return Reply(text=ctx.t("settings.changed", key=key, value=_show(new, spec)))


async def _announce(ctx: Context, value: str | None) -> Reply:
    if value is None:
        spaces = await ctx.identity.spaces_of(ctx.community.id)
        here = [s.announce_channel for s in spaces if s.platform == ctx.platform]
        shown = here[0] if here and here[0] else ctx.t("settings.here")
        return Reply(
            text=f"{ANNOUNCE} = {shown}\n{ctx.t('setting.announce_channel')}", ephemeral=True
        )
    channel = None if value in ("", "reset", "here") else value.strip().lstrip("#<").rstrip(">")
    if not await ctx.identity.set_announce_channel(ctx.community.id, ctx.platform, channel):
        raise UserError("error.setting.unknown", key=ANNOUNCE)
    return Reply(
        text=ctx.t("settings.changed", key=ANNOUNCE, value=channel or ctx.t("settings.here"))
    )


def _audited(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """A setting shown masked (a webhook address) is logged masked too."""
    key, value = params.get("key"), params.get("value")
    if not key or not value or value.lower() in RESETS:
        return params
    try:
        spec = ctx.community_settings.spec(key)
    except UserError:
        return params
    return {**params, "value": spec.show(value)} if spec.show is not None else params


def setup(feature: FeatureSetup) -> None:
    feature.commands.add(
        CommandSpec(
            "settings",
            "help.settings",
            settings,
            (
                Param("key", ParamType.TEXT, "param.setting_key", required=False, max=64),
                Param(
                    "value",
                    ParamType.TEXT,
                    "param.setting_value",
                    required=False,
                    max=300,
                    rest=True,
                ),
            ),
            role=Role.OWNER,
            audit_params=_audited,
        )
    )
