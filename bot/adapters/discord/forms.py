"""Commands marked `form` open a modal built from their parameters; its submission runs them.

The modal's custom id names the command (`fanloop-form:suggest`) and each text input is named
after its parameter, so a submission needs no memory of the modal: it works after a restart.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.adapters.discord.translate import clip, form_key, option_key
from bot.core.commands import CommandSpec, Param, ParamType
from bot.core.i18n import Translator

log = logging.getLogger(__name__)

FORM_PREFIX = "fanloop-form:"
MAX_INPUTS = 5
TEXT_INPUT_MAX = 4000


def localized(translator: Translator, locale: str, keys: list[str], default: str) -> str:
    """The first of `keys` the catalogs know, in `locale` (or English); else `default`."""
    for key in keys:
        texts = translator.all(key)
        if texts:
            return texts.get(locale) or texts.get("en") or default
    return default


def _input(
    translator: Translator, locale: str, spec: CommandSpec, p: Param
) -> discord.ui.Item[Any]:
    name = localized(translator, locale, [option_key(spec, p)], p.name.replace("_", " "))
    hint = translator(locale, p.help_key) if p.help_key else ""
    if p.type is ParamType.CHOICE:
        hint = f"{hint} ({' | '.join(p.choices)})" if hint else " | ".join(p.choices)
    text_limits = p.type is ParamType.TEXT
    long = p.rest or (text_limits and (p.max or 0) > 200)
    field: discord.ui.TextInput[discord.ui.Modal] = discord.ui.TextInput(
        custom_id=p.name,
        style=discord.TextStyle.paragraph if long else discord.TextStyle.short,
        required=p.required,
        min_length=min(p.min, TEXT_INPUT_MAX) if text_limits and p.min else None,
        max_length=min(p.max, TEXT_INPUT_MAX) if text_limits and p.max else None,
    )
    return discord.ui.Label(
        text=clip(name[:1].upper() + name[1:], 45),
        description=clip(hint, 100) or None,
        component=field,
    )


def modal(translator: Translator, locale: str, spec: CommandSpec) -> discord.ui.Modal:
    title = localized(
        translator,
        locale,
        [form_key(spec.name), spec.help_key],
        spec.name,
    )
    m = discord.ui.Modal(title=clip(title, 45), custom_id=FORM_PREFIX + spec.name, timeout=None)
    params = spec.form_params
    if len(params) > MAX_INPUTS:
        log.warning(
            "/%s has more than %d parameters; the form shows the first ones", spec.name, MAX_INPUTS
        )
    for p in params[:MAX_INPUTS]:
        m.add_item(_input(translator, locale, spec, p))
    m.stop()  # nothing to keep in memory: the submission is routed by its custom id
    return m


def submitted(components: list[dict[str, Any]]) -> dict[str, str]:
    """The values of a modal submission by input custom id (action rows or labels)."""
    out: dict[str, str] = {}
    for c in components:
        if c.get("type") == 4 and "custom_id" in c:
            out[str(c["custom_id"])] = str(c.get("value") or "")
        out.update(submitted(list(c.get("components") or [])))
        if isinstance(c.get("component"), dict):
            out.update(submitted([c["component"]]))
    return out
