"""A local server that speaks Discord's REST v10 and gateway, for tests and `fanloop bench discord`.

discord.py runs unchanged against it once `discord.http.Route.BASE` points at `api_base` and the
gateway URL at `gateway_url` (fanloop's settings `discord_api_base` / `discord_gateway_url` do
both). It keeps a small world — one guild with roles, channels and members, users, the bot's
messages, the synced commands — and enforces the rules Discord enforces and discord.py does
not check, so a test notices when the bot breaks them:

- an interaction must be acknowledged once, within 3 seconds (later: 404 "Unknown interaction",
  twice: 400 "already acknowledged"); a follow-up needs the acknowledgement first;
- messages: content ≤ 2000, embed limits, ≤ 5 action rows of ≤ 5 buttons or one select,
  custom ids ≤ 100 characters and unique within a message, no empty message;
- modals: title ≤ 45, 1–5 text inputs; command schema: names, descriptions, options, choices
  and localizations within Discord's limits, localized names unique per locale;
- members who closed their DMs answer 403 (code 50007); any route can be made to answer 429.

Tests build real-shaped events with `slash`, `press`, `submit`, `autocomplete` and `reply`, send
them over the gateway with `send`, and read what the bot answered from the returned
`Interaction` record. `fanloop bench discord` drives it from another process through
`POST /_fake/burst`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

APP_ID = 1100000000000000001  # the bot user has the application's id
GUILD_ID = 1100000000000000100
GENERAL_ID = 1100000000000000200
NEWS_ID = 1100000000000000201

VIEW, SEND, EMBED, ATTACH, HISTORY = 1 << 10, 1 << 11, 1 << 14, 1 << 15, 1 << 16
ADMINISTRATOR, MANAGE_GUILD, MANAGE_ROLES, USE_COMMANDS = 1 << 3, 1 << 5, 1 << 28, 1 << 31
MESSAGE_CONTENT = 1 << 15  # the gateway intent
EVERYONE = VIEW | SEND | EMBED | ATTACH | HISTORY | USE_COMMANDS
ALL_PERMISSIONS = (1 << 51) - 1

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
CALLBACK = re.compile(r"/interactions/(\d+)/([^/]+)/callback")
WEBHOOK = re.compile(r"/webhooks/(\d+)/([^/]+)(?:/messages/([^/]+))?")

_ids = itertools.count(1400000000000000000)


def snowflake() -> str:
    return str(next(_ids))


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


class Rejected(Exception):
    """What Discord answers with an error status."""

    def __init__(self, status: int, code: int, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or []

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            out["errors"] = self.errors
        return out


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    status: int = 200


@dataclass
class Interaction:
    """One interaction sent to the bot, and everything the bot answered to it."""

    payload: dict[str, Any]
    sent_at: float
    ack_type: int | None = None
    ack_at: float | None = None
    late: bool = False
    answered_at: float | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)  # what the user ends up seeing
    modal: dict[str, Any] | None = None
    choices: list[dict[str, Any]] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def id(self) -> str:
        return str(self.payload["id"])

    @property
    def token(self) -> str:
        return str(self.payload["token"])

    @property
    def deferred(self) -> bool:
        return self.ack_type in (5, 6)

    @property
    def message(self) -> dict[str, Any]:
        """The last message the bot showed for this interaction."""
        assert self.messages, f"no message was shown (ack type {self.ack_type})"
        return self.messages[-1]

    async def wait(self, within: float = 10.0) -> Interaction:
        await asyncio.wait_for(self.done.wait(), within)
        return self


def user_payload(uid: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(uid),
        "username": name.lower(),
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


BOT_USER = user_payload(APP_ID, "fanloop", bot=True)


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, dict[str, Any]] = field(default_factory=dict)
    channels: dict[int, dict[str, Any]] = field(default_factory=dict)
    members: dict[int, list[int]] = field(default_factory=dict)  # user id -> role ids
    system_channel_id: int | None = None

    def add_role(self, name: str, permissions: int = 0, *, position: int | None = None) -> int:
        rid = self.id if name == "@everyone" else int(snowflake())
        self.roles[rid] = {
            "id": str(rid),
            "name": name,
            "color": 0,
            "hoist": False,
            "position": len(self.roles) if position is None else position,
            "permissions": str(permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        return rid

    def role_id(self, name: str) -> int:
        return next(rid for rid, r in self.roles.items() if r["name"] == name)

    def permissions(self, uid: int) -> int:
        if uid == self.owner_id:
            return ALL_PERMISSIONS
        value = int(self.roles[self.id]["permissions"])
        for rid in self.members.get(uid, []):
            value |= int(self.roles[rid]["permissions"])
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def member(self, user: dict[str, Any], *, permissions: int | None = None) -> dict[str, Any]:
        uid = int(user["id"])
        return {
            "user": user,
            "roles": [str(r) for r in self.members.get(uid, [])],
            "joined_at": now_iso(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
            "premium_since": None,
            "communication_disabled_until": None,
            "permissions": str(self.permissions(uid) if permissions is None else permissions),
        }

    def channel(self, cid: int) -> dict[str, Any]:
        return self.channels[cid]

    def payload(self, users: dict[int, dict[str, Any]]) -> dict[str, Any]:
        """A full GUILD_CREATE."""
        members = [self.member(users[uid]) for uid in self.members if uid in users]
        for m in members:
            m.pop("permissions")
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": list(self.roles.values()),
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": str(self.system_channel_id) if self.system_channel_id else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "unavailable": False,
            "member_count": len(self.members),
            "large": False,
            "joined_at": now_iso(),
            "members": members,
            "channels": list(self.channels.values()),
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


def text_channel(cid: int, guild_id: int, name: str, position: int) -> dict[str, Any]:
    return {
        "id": str(cid),
        "type": 0,
        "guild_id": str(guild_id),
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
        "topic": None,
        "last_message_id": None,
    }


# -- Discord's limits -------------------------------------------------------------------------


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


class FakeDiscord:
    """Discord on 127.0.0.1: REST v10 under `/api/v10`, the gateway at `/gateway`."""

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, ack_deadline: float = 3.0
    ) -> None:
        self.host, self.port, self.ack_deadline = host, port, ack_deadline
        self.calls: list[Call] = []
        self.users: dict[int, dict[str, Any]] = {APP_ID: BOT_USER}
        self.messages: dict[str, dict[str, Any]] = {}
        self.deleted: set[str] = set()
        self.interactions: dict[str, Interaction] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # guild id or None (global)
        self.blocked_dms: set[int] = set()
        self.identify: dict[str, Any] | None = None
        self.identified = asyncio.Event()
        self._failures: list[tuple[str, re.Pattern[str], int, dict[str, Any], list[int]]] = []
        self._dm_channels: dict[str, int] = {}
        self._changed = asyncio.Condition()
        self._ws: web.WebSocketResponse | None = None
        self._seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._burst: list[Interaction] = []
        self._burst_task: asyncio.Task[None] | None = None
        self.owner = self.add_user("Owner")
        guild = Guild(GUILD_ID, "Fan Club", int(self.owner["id"]))
        guild.add_role("@everyone", EVERYONE)
        bot_role = guild.add_role("fanloop", EVERYONE | MANAGE_ROLES, position=10)
        guild.channels[GENERAL_ID] = text_channel(GENERAL_ID, GUILD_ID, "general", 0)
        guild.channels[NEWS_ID] = text_channel(NEWS_ID, GUILD_ID, "news", 1)
        guild.system_channel_id = GENERAL_ID
        guild.members[APP_ID] = [bot_role]
        guild.members[int(self.owner["id"])] = []
        self.guilds: dict[int, Guild] = {GUILD_ID: guild}

    @property
    def guild(self) -> Guild:
        return self.guilds[GUILD_ID]

    # -- server ----------------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        return f"http://{self.host}:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    async def start(self) -> FakeDiscord:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        app.router.add_post("/_fake/burst", self._burst_start)
        app.router.add_get("/_fake/burst", self._burst_status)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port, backlog=4096).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- the world ---------------------------------------------------------------------------

    def add_user(self, name: str, *, uid: int | None = None) -> dict[str, Any]:
        user = user_payload(uid or int(snowflake()), name)
        self.users[int(user["id"])] = user
        return user

    def add_member(self, name: str, *roles: str, guild: int = GUILD_ID) -> dict[str, Any]:
        user = self.add_user(name)
        g = self.guilds[guild]
        g.members[int(user["id"])] = [g.role_id(r) for r in roles]
        return user

    def fail(self, method: str, path: str, status: int, *, times: int = 1, **body: Any) -> None:
        """Answer the next `times` requests matching `method` and the path regex with `status`.
        A 429 gets Discord's `retry_after` body and headers (pass retry_after=seconds)."""
        self._failures.append((method, re.compile(path), status, body, [times]))

    def channel_messages(self, channel_id: int) -> list[dict[str, Any]]:
        return [
            m
            for m in self.messages.values()
            if m["channel_id"] == str(channel_id) and m["id"] not in self.deleted
        ]

    def calls_to(self, method: str, path: str) -> list[Call]:
        pattern = re.compile(path)
        return [c for c in self.calls if c.method == method and pattern.fullmatch(c.path)]

    async def wait_for(
        self, method: str, path: str, count: int = 1, within: float = 10.0
    ) -> list[Call]:
        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.calls_to(method, path)) >= count)

        await asyncio.wait_for(until(), within)
        return self.calls_to(method, path)

    # -- events the bot receives ------------------------------------------------------------

    def _base(
        self, itype: int, data: dict[str, Any], user: dict[str, Any], **kw: Any
    ) -> dict[str, Any]:
        guild = self.guilds[kw.get("guild", GUILD_ID)] if kw.get("guild", GUILD_ID) else None
        channel_id = kw.get("channel", GENERAL_ID)
        payload: dict[str, Any] = {
            "id": snowflake(),
            "application_id": str(APP_ID),
            "type": itype,
            "token": "tok-" + snowflake(),
            "version": 1,
            "data": data,
            "locale": kw.get("locale", "en-US"),
            "entitlements": [],
            "attachment_size_limit": 26214400,
            "app_permissions": str(guild.permissions(APP_ID) if guild else EVERYONE),
        }
        if guild is not None:
            payload.update(
                guild_id=str(guild.id),
                guild_locale="en-US",
                guild={"id": str(guild.id), "locale": "en-US", "features": []},
                channel_id=str(channel_id),
                channel=guild.channel(channel_id),
                member=guild.member(user, permissions=kw.get("permissions")),
                context=0,
                authorizing_integration_owners={"0": str(guild.id)},
            )
        else:
            dm = kw.get("dm_channel") or self.dm_channel(int(user["id"]))
            payload.update(
                user=user,
                context=1,
                channel_id=str(dm),
                channel={"id": str(dm), "type": 1, "recipients": [user]},
                authorizing_integration_owners={"1": str(user["id"])},
            )
        if kw.get("message") is not None:
            payload["message"] = kw["message"]
        return payload

    def _command(self, name: str, guild: int | None) -> dict[str, Any]:
        top = name.split(" ", 1)[0]
        for scope in (guild, None):
            for cmd in self.commands.get(scope, []):
                if cmd["name"] == top:
                    return cmd
        raise KeyError(f"/{top} was not synced")

    def slash(self, user: dict[str, Any], name: str, /, **options: Any) -> dict[str, Any]:
        """A slash command as a Discord client sends it, options typed from the synced schema.
        Keyword arguments `_locale`, `_permissions`, `_channel` shape the payload itself."""
        kw = {k[1:]: options.pop(k) for k in list(options) if k.startswith("_")}
        cmd = self._command(name, GUILD_ID)
        schema, leaf = cmd, None
        if " " in name:
            leaf = name.split(" ", 1)[1]
            schema = next(o for o in cmd["options"] if o["name"] == leaf)
        by_name = {o["name"]: o for o in schema.get("options") or []}
        opts, resolved = [], {"users": {}, "members": {}}  # type: ignore[var-annotated]
        for key, value in options.items():
            opt = by_name[key]
            opts.append({"name": key, "type": opt["type"], "value": option_value(opt, value)})
            if opt["type"] == 6:
                uid = int(opts[-1]["value"])
                resolved["users"][str(uid)] = self.users[uid]
                member = self.guild.member(self.users[uid])
                member.pop("user")
                resolved["members"][str(uid)] = member
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1}
        if leaf is not None:
            data["options"] = [{"name": leaf, "type": 1, "options": opts}]
        else:
            data["options"] = opts
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        if resolved["users"]:
            data["resolved"] = resolved
        return self._base(2, data, user, **kw)

    def autocomplete(
        self, user: dict[str, Any], name: str, option: str, typed: str, **kw: Any
    ) -> dict[str, Any]:
        payload = self.slash(user, name, **kw)
        opts = payload["data"]["options"]
        if opts and opts[0]["type"] == 1:
            opts = opts[0]["options"]
        opts.append({"name": option, "type": 3, "value": typed, "focused": True})
        payload["type"] = 4
        return payload

    def press(
        self,
        user: dict[str, Any],
        message: dict[str, Any],
        custom_id: str,
        *,
        values: list[str] | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": 2}
        if values is not None:
            data.update(component_type=3, values=values)
        channel = int(message["channel_id"])
        if "guild_id" not in message:
            kw.setdefault("guild", None)
            kw.setdefault("dm_channel", channel)
        else:
            kw.setdefault("channel", channel)
        return self._base(3, data, user, message=message, **kw)

    def submit(
        self, user: dict[str, Any], modal: dict[str, Any], values: dict[str, str], **kw: Any
    ) -> dict[str, Any]:
        rows = []
        for ti in _text_inputs(modal["components"]):
            value = values.get(ti["custom_id"], "")
            rows.append(
                {
                    "type": 18,
                    "component": {"type": 4, "custom_id": ti["custom_id"], "value": value},
                }
            )
        data = {"custom_id": modal["custom_id"], "components": rows}
        return self._base(5, data, user, **kw)

    def bot_message(
        self, custom_ids: list[str], *, channel: int = GENERAL_ID, dm: bool = False
    ) -> dict[str, Any]:
        """A message of the bot's with buttons, as if posted before the bot (re)started."""
        buttons = [{"type": 2, "style": 2, "label": cid, "custom_id": cid} for cid in custom_ids]
        data = {
            "embeds": [{"title": "earlier"}],
            "components": [{"type": 1, "components": buttons}],
        }
        return self._store_message(data, channel, dm=dm)

    async def send(self, payload: dict[str, Any]) -> Interaction:
        """Deliver an INTERACTION_CREATE over the gateway; the record fills in with answers."""
        record = Interaction(payload, time.monotonic())
        self.interactions[record.id] = record
        await self.dispatch("INTERACTION_CREATE", payload)
        return record

    async def run(self, payload: dict[str, Any], within: float = 10.0) -> Interaction:
        return await (await self.send(payload)).wait(within)

    async def reply(
        self, user: dict[str, Any], to: dict[str, Any], content: str, *, mention: bool = True
    ) -> dict[str, Any]:
        """A member replies to a message (MESSAGE_CREATE of type 19)."""
        guild = self.guild
        member = guild.member(user)
        member.pop("user")
        member.pop("permissions")
        msg = {
            "id": snowflake(),
            "channel_id": to["channel_id"],
            "guild_id": str(guild.id),
            "author": user,
            "member": member,
            "content": content,
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [BOT_USER] if mention else [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 19,
            "flags": 0,
            "message_reference": {
                "type": 0,
                "message_id": to["id"],
                "channel_id": to["channel_id"],
                "guild_id": str(guild.id),
            },
            "referenced_message": to,
        }
        intents = int((self.identify or {}).get("intents") or 0)
        if not mention and not intents & MESSAGE_CONTENT:
            # Without the privileged intent Discord sends no text for messages not mentioning
            # the bot.
            msg = dict(msg, content="")
        await self.dispatch("MESSAGE_CREATE", msg)
        return msg

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        if self._ws is None or self._ws.closed:
            raise RuntimeError("the bot is not connected to the gateway")
        frame = {"op": 0, "t": event, "s": next(self._seq), "d": data}
        await self._ws.send_str(json.dumps(frame))

    # -- REST ----------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body: Any = None
        files: dict[str, tuple[str, bytes]] = {}
        if request.can_read_body:
            if request.content_type == "multipart/form-data":
                form = await request.post()
                raw = form.get("payload_json")
                body = json.loads(raw) if isinstance(raw, str) else {}
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = (value.filename, value.file.read())
            else:
                body = await request.json()
        call = Call(request.method, path, dict(request.query), body, files)
        self.calls.append(call)
        try:
            status, payload, headers = self._failure(call) or (200, None, {})
            if status == 200:
                payload = self._route(call)
                if payload is None:
                    status = 204
        except Rejected as exc:
            status, payload, headers = exc.status, exc.body(), {}
        call.status = status
        async with self._changed:
            self._changed.notify_all()
        if status == 204:
            return web.Response(status=204)
        # discord.py parses JSON only when Content-Type is exactly "application/json".
        return web.Response(
            status=status,
            body=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", **headers},
        )

    def _failure(self, call: Call) -> tuple[int, Any, dict[str, str]] | None:
        for method, pattern, status, body, left in self._failures:
            if left[0] > 0 and call.method == method and pattern.fullmatch(call.path):
                left[0] -= 1
                if status == 429:
                    after = float(body.get("retry_after", 1.0))
                    headers = {"Via": "1.1 google", "Retry-After": str(after)}
                    return (
                        429,
                        {
                            "message": "You are being rate limited.",
                            "retry_after": after,
                            "global": False,
                        },
                        headers,
                    )
                return status, {"code": body.get("code", 0), "message": body.get("message", "")}, {}
        return None

    def _route(self, c: Call) -> Any:
        m, p = c.method, c.path
        if (m, p) == ("GET", "/users/@me"):
            return BOT_USER
        if (m, p) == ("GET", "/oauth2/applications/@me"):
            return {
                "id": str(APP_ID),
                "name": "fanloop",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": self.owner,
                "verify_key": "00",
                "flags": 0,
                "team": None,
            }
        if mt := CALLBACK.fullmatch(p):
            return self._callback(mt.group(1), mt.group(2), c)
        if mt := WEBHOOK.fullmatch(p):
            return self._webhook(mt.group(2), mt.group(3), c)
        if mt := re.fullmatch(r"/applications/\d+(?:/guilds/(\d+))?/commands", p):
            guild = int(mt.group(1)) if mt.group(1) else None
            if m == "GET":
                return self.commands.get(guild, [])
            errors = check_commands(c.json)
            if errors:
                raise Rejected(400, 50035, "Invalid Form Body", errors)
            self.commands[guild] = [
                dict(
                    cmd,
                    id=snowflake(),
                    application_id=str(APP_ID),
                    version=snowflake(),
                    **({"guild_id": str(guild)} if guild else {}),
                )
                for cmd in c.json
            ]
            return self.commands[guild]
        return self._route_objects(c)

    def _route_objects(self, c: Call) -> Any:
        m, p = c.method, c.path
        if mt := re.fullmatch(r"/channels/(\d+)/messages", p):
            return self._channel_message(int(mt.group(1)), c)
        if (mt := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", p)) and m == "DELETE":
            self.deleted.add(mt.group(2))
            return None
        if mt := re.fullmatch(r"/channels/(\d+)", p):
            channel = self._find_channel(int(mt.group(1)))
            if channel is None:
                raise Rejected(404, 10003, "Unknown Channel")
            return channel
        if (m, p) == ("POST", "/users/@me/channels"):
            uid = int(c.json["recipient_id"])
            if uid not in self.users:
                raise Rejected(404, 10013, "Unknown User")
            dm = self.dm_channel(uid)
            return {
                "id": str(dm),
                "type": 1,
                "recipients": [self.users[uid]],
                "last_message_id": None,
            }
        if mt := re.fullmatch(r"/users/(\d+)", p):
            if int(mt.group(1)) not in self.users:
                raise Rejected(404, 10013, "Unknown User")
            return self.users[int(mt.group(1))]
        if mt := re.fullmatch(r"/guilds/(\d+)(/.*)?", p):
            return self._route_guild(int(mt.group(1)), mt.group(2) or "", c)
        raise Rejected(404, 0, f"404: Not Found ({m} {p})")

    def _route_guild(self, gid: int, rest: str, c: Call) -> Any:
        guild = self.guilds.get(gid)
        if guild is None:
            raise Rejected(404, 10004, "Unknown Guild")
        if rest == "":
            data = guild.payload(self.users)
            for key in ("members", "channels", "threads", "presences", "voice_states"):
                data.pop(key)
            return data
        if rest == "/channels":
            return list(guild.channels.values())
        if rest == "/roles":
            return list(guild.roles.values())
        if mt := re.fullmatch(r"/members/(\d+)", rest):
            uid = int(mt.group(1))
            if uid not in guild.members:
                raise Rejected(404, 10007, "Unknown Member")
            member = guild.member(self.users[uid])
            member.pop("permissions")
            return member
        if mt := re.fullmatch(r"/members/(\d+)/roles/(\d+)", rest):
            uid, rid = int(mt.group(1)), int(mt.group(2))
            if uid not in guild.members:
                raise Rejected(404, 10007, "Unknown Member")
            if rid not in guild.roles:
                raise Rejected(404, 10011, "Unknown Role")
            if guild.roles[rid]["position"] >= max(
                guild.roles[r]["position"] for r in guild.members[APP_ID]
            ):
                raise Rejected(403, 50013, "Missing Permissions")
            roles = guild.members[uid]
            if c.method == "PUT" and rid not in roles:
                roles.append(rid)
            elif c.method == "DELETE" and rid in roles:
                roles.remove(rid)
            return None
        raise Rejected(404, 0, f"404: Not Found ({c.method} /guilds/{gid}{rest})")

    def _find_channel(self, cid: int) -> dict[str, Any] | None:
        for guild in self.guilds.values():
            if cid in guild.channels:
                return guild.channels[cid]
        return None

    def dm_channel(self, uid: int) -> int:
        """The id of the DM channel between the bot and a user."""
        key = str(uid)
        if key not in self._dm_channels:
            self._dm_channels[key] = int(snowflake())
        return self._dm_channels[key]

    def _channel_message(self, cid: int, c: Call) -> dict[str, Any]:
        dm_user = next((int(u) for u, ch in self._dm_channels.items() if ch == cid), None)
        if dm_user is None and self._find_channel(cid) is None:
            raise Rejected(404, 10003, "Unknown Channel")
        if dm_user is not None and dm_user in self.blocked_dms:
            raise Rejected(403, 50007, "Cannot send messages to this user")
        errors = check_message(c.json or {}, len(c.files))
        if errors:
            raise Rejected(400, 50035, "Invalid Form Body", errors)
        return self._store_message(c.json or {}, cid, files=c.files, dm=dm_user is not None)

    def _store_message(
        self,
        data: dict[str, Any],
        channel_id: int,
        *,
        message_id: str | None = None,
        files: dict[str, tuple[str, bytes]] | None = None,
        dm: bool = False,
        interaction: bool = False,
    ) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "id": message_id or snowflake(),
            "channel_id": str(channel_id),
            "author": BOT_USER,
            "content": data.get("content") or "",
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [
                {
                    "id": snowflake(),
                    "filename": name,
                    "size": len(content),
                    "url": f"https://cdn.example/{name}",
                    "proxy_url": f"https://cdn.example/{name}",
                }
                for name, content in (files or {}).values()
            ],
            "embeds": data.get("embeds") or [],
            "components": data.get("components") or [],
            "pinned": False,
            "type": 20 if interaction else 0,
            "flags": data.get("flags") or 0,
        }
        if not dm:
            msg["guild_id"] = str(GUILD_ID)
        if interaction:
            msg.update(webhook_id=str(APP_ID), application_id=str(APP_ID))
        self.messages[msg["id"]] = msg
        return msg

    # -- interaction responses ------------------------------------------------------------

    def _callback(self, iid: str, token: str, c: Call) -> dict[str, Any]:
        record = self.interactions.get(iid)
        if record is None or record.token != token:
            raise Rejected(404, 10062, "Unknown interaction")
        if record.ack_type is not None:
            raise Rejected(400, 40060, "Interaction has already been acknowledged.")
        now = time.monotonic()
        if now - record.sent_at > self.ack_deadline:
            record.late = True
            record.done.set()
            raise Rejected(404, 10062, "Unknown interaction")
        rtype, data = c.json["type"], c.json.get("data") or {}
        errors: list[str] = []
        if rtype in (4, 7):
            errors = check_message(data, len(c.files))
        elif rtype == 9:
            errors = check_modal(data)
        if errors:
            raise Rejected(400, 50035, "Invalid Form Body", errors)
        record.ack_type, record.ack_at = rtype, now
        out: dict[str, Any] = {
            "interaction": {
                "id": iid,
                "type": record.payload["type"],
                "response_message_loading": rtype == 5,
                "response_message_ephemeral": bool(int(data.get("flags") or 0) & 64),
            }
        }
        channel = int(record.payload.get("channel_id") or GENERAL_ID)
        dm = "guild_id" not in record.payload
        if rtype in (4, 5):
            flags = int(data.get("flags") or 0) | (128 if rtype == 5 else 0)
            msg = self._store_message(
                dict(data, flags=flags), channel, files=c.files, dm=dm, interaction=True
            )
            record.payload["_original"] = msg["id"]
            out["interaction"]["response_message_id"] = msg["id"]
            out["resource"] = {"type": rtype, "message": msg}
            if rtype == 4:
                record.messages.append(msg)
                record.answered_at = now
        elif rtype == 7:
            target = record.payload["message"]["id"]
            msg = self._store_message(
                data, channel, message_id=target, files=c.files, dm=dm, interaction=True
            )
            record.messages.append(msg)
            record.answered_at = now
            out["interaction"]["response_message_id"] = msg["id"]
            out["resource"] = {"type": rtype, "message": msg}
        elif rtype == 9:
            record.modal = data
        elif rtype == 8:
            record.choices = data.get("choices") or []
        if rtype not in (5, 6):
            record.done.set()
        return out

    def _webhook(self, token: str, message: str | None, c: Call) -> dict[str, Any] | None:
        record = next((r for r in self.interactions.values() if r.token == token), None)
        if record is None or record.ack_type is None:
            raise Rejected(404, 10015, "Unknown Webhook")
        channel = int(record.payload.get("channel_id") or GENERAL_ID)
        dm = "guild_id" not in record.payload
        original = record.payload.get("_original")
        target = original if message == "@original" else message
        if message is not None and (target is None or target in self.deleted):
            raise Rejected(404, 10008, "Unknown Message")
        if c.method == "DELETE":
            self.deleted.add(str(target))
            return None
        if c.method == "GET":
            return self.messages[str(target)]
        errors = check_message(c.json or {}, len(c.files))
        if errors:
            raise Rejected(400, 50035, "Invalid Form Body", errors)
        data = dict(c.json or {})
        if c.method == "PATCH":
            old = self.messages[str(target)]
            data["flags"] = int(old.get("flags") or 0) & ~128
            msg = self._store_message(
                data, channel, message_id=str(target), files=c.files, dm=dm, interaction=True
            )
        else:
            msg = self._store_message(data, channel, files=c.files, dm=dm, interaction=True)
        record.messages.append(msg)
        record.answered_at = time.monotonic()
        record.done.set()
        return msg

    # -- gateway ---------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._ws = ws
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            if frame["op"] == 1:
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif frame["op"] == 2:
                self.identify = frame["d"]
                await self.dispatch(
                    "READY",
                    {
                        "v": 10,
                        "user": BOT_USER,
                        "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
                        "session_id": "fake-session",
                        "resume_gateway_url": self.gateway_url,
                        "shard": [0, 1],
                        "application": {"id": str(APP_ID), "flags": 0},
                    },
                )
                for guild in self.guilds.values():
                    await self.dispatch("GUILD_CREATE", guild.payload(self.users))
                self.identified.set()
        return ws

    # -- bench control ---------------------------------------------------------------------------

    async def _burst_start(self, request: web.Request) -> web.Response:
        """Send `count` presses of `custom_id` by distinct new members: as fast as possible, or
        `rate` per second. Answers at once; `GET /_fake/burst` follows the progress."""
        spec = await request.json()
        message = self.bot_message([spec["custom_id"]])
        first = int(spec.get("first_user_id", 1300000000000000000))
        payloads = []
        for i in range(int(spec["count"])):
            user = self.add_user(f"fan{i}", uid=first + i)
            payloads.append(self.press(user, message, spec["custom_id"]))
        self._burst = []
        self._burst_task = asyncio.create_task(
            self._send_burst(payloads, float(spec.get("rate", 0)))
        )
        return web.json_response({"count": len(payloads)})

    async def _send_burst(self, payloads: list[dict[str, Any]], rate: float) -> None:
        start = time.monotonic()
        for i, payload in enumerate(payloads):
            if rate > 0:
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            self._burst.append(await self.send(payload))
            # Discord's gateway and REST API are separate services: keep answering requests
            # while the burst goes out.
            await asyncio.sleep(0)

    async def _burst_status(self, request: web.Request) -> web.Response:
        records = self._burst
        acked = [r for r in records if r.ack_at is not None]
        answered = [r.answered_at for r in records if r.answered_at is not None]
        return web.json_response(
            {
                "identified": self.identified.is_set(),
                "sent": len(records),
                "done": sum(1 for r in records if r.done.is_set()),
                "acked": len(acked),
                "answered": len(answered),
                "deferred": sum(1 for r in acked if r.deferred),
                "late": sum(1 for r in records if r.late),
                "first_sent": min((r.sent_at for r in records), default=0.0),
                "last_sent": max((r.sent_at for r in records), default=0.0),
                "last_answered": max(answered, default=0.0),
                "ack_ms": [round((r.ack_at - r.sent_at) * 1000, 3) for r in acked if r.ack_at],
            }
        )


async def serve_forever(host: str = "127.0.0.1", port: int = 0) -> None:
    """Run a FakeDiscord until cancelled (`python -m bot.testing.discord_api [port]`)."""
    fake = await FakeDiscord(host=host, port=port).start()
    print(f"api base {fake.api_base}\ngateway  {fake.gateway_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


if __name__ == "__main__":
    import sys

    asyncio.run(serve_forever(port=int(sys.argv[1]) if len(sys.argv) > 1 else 0))
