"""Discord's limits on messages, modals and the command schema, which discord.py does not check:
each check returns the errors Discord would list (empty when the payload is accepted)."""

from __future__ import annotations

import re
from typing import Any

DISCORD_LOCALES = frozenset(
    [
        "id",
        "da",
        "de",
        "en-GB",
        "en-US",
        "es-ES",
        "es-419",
        "fr",
        "hr",
        "it",
        "lt",
        "hu",
        "nl",
        "no",
        "pl",
        "pt-BR",
        "ro",
        "fi",
        "sv-SE",
        "vi",
        "tr",
        "cs",
        "el",
        "bg",
        "ru",
        "uk",
        "hi",
        "th",
        "zh-CN",
        "ja",
        "zh-TW",
        "ko",
    ]
)
NAME_RE = re.compile(r"^[-_\w]{1,32}$")


def check_message(data: dict[str, Any], files: int = 0) -> list[str]:
    errors: list[str] = []
    content = data.get("content") or ""
    embeds = data.get("embeds") or []
    components = data.get("components") or []
    if len(content) > 2000:
        errors.append("content: must be 2000 or fewer in length")
    if not (content or embeds or components or files):
        errors.append("Cannot send an empty message")
    if len(embeds) > 10:
        errors.append("embeds: at most 10")
    for i, e in enumerate(embeds):
        errors += [f"embeds.{i}.{m}" for m in _check_embed(e)]
    if len(components) > 5:
        errors.append("components: at most 5 action rows")
    seen: set[str] = set()
    for i, row in enumerate(components):
        errors += [f"components.{i}.{m}" for m in _check_row(row, seen)]
    return errors


def _check_embed(e: dict[str, Any]) -> list[str]:
    errors = []
    limits = {"title": 256, "description": 4096}
    total = 0
    for key, limit in limits.items():
        value = e.get(key) or ""
        total += len(value)
        if len(value) > limit:
            errors.append(f"{key}: must be {limit} or fewer in length")
    fields = e.get("fields") or []
    if len(fields) > 25:
        errors.append("fields: at most 25")
    for f in fields:
        total += len(f.get("name", "")) + len(f.get("value", ""))
        if not 1 <= len(f.get("name", "")) <= 256 or not 1 <= len(f.get("value", "")) <= 1024:
            errors.append("fields: name 1-256, value 1-1024 characters")
    footer = (e.get("footer") or {}).get("text") or ""
    total += len(footer)
    if len(footer) > 2048:
        errors.append("footer.text: must be 2048 or fewer in length")
    if total > 6000:
        errors.append("embed: total size must be 6000 or fewer")
    return errors


def _check_row(row: dict[str, Any], seen: set[str]) -> list[str]:
    errors = []
    items = row.get("components") or []
    if row.get("type") != 1 or not items:
        return ["type: an action row with components"]
    selects = [c for c in items if c.get("type") == 3]
    if selects and len(items) > 1:
        errors.append("a select menu must be alone in its row")
    if len(items) > 5:
        errors.append("components: at most 5 buttons in a row")
    for c in items:
        cid = c.get("custom_id")
        if cid is not None:
            if not 1 <= len(cid) <= 100:
                errors.append("custom_id: 1-100 characters")
            if cid in seen:
                errors.append(f"custom_id: duplicated ({cid})")
            seen.add(cid)
        if c.get("type") == 2 and len(c.get("label") or "") > 80:
            errors.append("label: must be 80 or fewer in length")
        if c.get("type") == 3:
            options = c.get("options") or []
            values = [o.get("value") for o in options]
            if not 1 <= len(options) <= 25 or len(set(values)) != len(values):
                errors.append("options: 1-25 with unique values")
            for o in options:
                if len(o.get("label", "")) > 100 or len(o.get("value", "")) > 100:
                    errors.append("options: label and value at most 100 characters")
                if len(o.get("description") or "") > 100:
                    errors.append("options: description at most 100 characters")
            if len(c.get("placeholder") or "") > 150:
                errors.append("placeholder: must be 150 or fewer in length")
    return errors


def _text_inputs(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The text inputs of a modal, in action rows (classic) or labels (type 18)."""
    out = []
    for c in components:
        if c.get("type") == 4:
            out.append(c)
        for child in c.get("components") or []:
            out += _text_inputs([child])
        if isinstance(c.get("component"), dict):
            out += _text_inputs([c["component"]])
    return out


def check_modal(data: dict[str, Any]) -> list[str]:
    errors = []
    if not 1 <= len(data.get("title") or "") <= 45:
        errors.append("title: 1-45 characters")
    if not 1 <= len(data.get("custom_id") or "") <= 100:
        errors.append("custom_id: 1-100 characters")
    rows = data.get("components") or []
    if not 1 <= len(rows) <= 5:
        errors.append("components: 1-5")
    for row in rows:
        if row.get("type") == 18 and not 1 <= len(row.get("label") or "") <= 45:
            errors.append("label: 1-45 characters")
        if row.get("type") == 18 and len(row.get("description") or "") > 100:
            errors.append("label description: at most 100 characters")
    for ti in _text_inputs(rows):
        if ti.get("label") is not None and not 1 <= len(ti["label"]) <= 45:
            errors.append("text input label: 1-45 characters")
        if not 0 <= ti.get("min_length", 0) <= ti.get("max_length", 4000) <= 4000:
            errors.append("text input: 0 <= min_length <= max_length <= 4000")
    return errors


def check_commands(commands: list[dict[str, Any]]) -> list[str]:
    errors: list[str] = []
    names: dict[str, set[str]] = {}
    for cmd in commands:
        errors += [f"{cmd.get('name')}: {m}" for m in _check_command(cmd, top=True)]
        for loc, name in {"": cmd["name"], **(cmd.get("name_localizations") or {})}.items():
            if name in names.setdefault(loc, set()):
                errors.append(f"{name}: duplicated name (locale {loc or 'default'})")
            names[loc].add(name)
    return errors


def _check_named(item: dict[str, Any]) -> list[str]:
    errors = []
    name = item.get("name", "")
    if not NAME_RE.match(name) or name != name.lower():
        errors.append(f"name {name!r} is not a valid command name")
    desc = item.get("description", "")
    if not 1 <= len(desc) <= 100:
        errors.append("description: 1-100 characters")
    for loc, value in (item.get("name_localizations") or {}).items():
        if loc not in DISCORD_LOCALES:
            errors.append(f"name_localizations: unknown locale {loc}")
        if not NAME_RE.match(value) or value != value.lower():
            errors.append(f"name_localizations.{loc}: {value!r} is not a valid name")
    for loc, value in (item.get("description_localizations") or {}).items():
        if loc not in DISCORD_LOCALES or not 1 <= len(value) <= 100:
            errors.append(f"description_localizations.{loc}: 1-100 characters")
    return errors


def _check_command(item: dict[str, Any], *, top: bool = False) -> list[str]:
    errors = _check_named(item)
    options = item.get("options") or []
    if len(options) > 25:
        errors.append("options: at most 25")
    seen_optional = False
    seen: set[str] = set()
    for opt in options:
        if opt["name"] in seen:
            errors.append(f"options: {opt['name']} duplicated")
        seen.add(opt["name"])
        if opt.get("type") in (1, 2):
            errors += [f"{opt['name']}: {m}" for m in _check_command(opt)]
            continue
        errors += [f"{opt['name']}: {m}" for m in _check_named(opt)]
        if opt.get("required"):
            if seen_optional:
                errors.append("required options must come before optional ones")
        else:
            seen_optional = True
        choices = opt.get("choices") or []
        if len(choices) > 25 or (choices and opt.get("autocomplete")):
            errors.append(f"{opt['name']}: at most 25 choices, never with autocomplete")
        for c in choices:
            if not 1 <= len(c["name"]) <= 100:
                errors.append("choice names: 1-100 characters")
            for loc, value in (c.get("name_localizations") or {}).items():
                if loc not in DISCORD_LOCALES or not 1 <= len(value) <= 100:
                    errors.append(f"choice name_localizations.{loc}: 1-100 characters")
        if "max_length" in opt and not 1 <= opt["max_length"] <= 6000:
            errors.append("max_length: 1-6000")
    if not top and item.get("default_member_permissions") is not None:
        errors.append("subcommands cannot have default_member_permissions")
    return errors


def option_value(option: dict[str, Any], value: Any) -> Any:
    """Encode a test value the way a Discord client sends it for that option type."""
    kind = option["type"]
    if kind == 6:
        return str(value["id"]) if isinstance(value, dict) else str(value)
    if kind == 4:
        return int(value)
    if kind == 5:
        return bool(value)
    return str(value)
