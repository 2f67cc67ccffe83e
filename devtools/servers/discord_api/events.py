"""Events the bot receives: real-shaped interactions and messages, sent over the gateway."""

from __future__ import annotations

import time
from typing import Any

from devtools.servers.discord_api.limits import _text_inputs, option_value
from devtools.servers.discord_api.rest import Rest
from devtools.servers.discord_api.shards import session_for
from devtools.servers.discord_api.world import (
    APP_ID,
    EVERYONE,
    GENERAL_ID,
    GUILD_ID,
    Interaction,
    member_message,
    snowflake,
)


class Events(Rest):
    def _base(
        self, itype: int, data: dict[str, Any], user: dict[str, Any], **kw: Any
    ) -> dict[str, Any]:
        guild = self.guilds[kw.get("guild", GUILD_ID)] if kw.get("guild", GUILD_ID) else None
        default_channel = GENERAL_ID
        if guild is not None and guild.id != GUILD_ID and guild.system_channel_id:
            default_channel = guild.system_channel_id
        channel_id = kw.get("channel", default_channel)
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
        Keyword arguments `_locale`, `_permissions`, `_channel`, `_guild` shape the payload
        itself."""
        kw = {k[1:]: options.pop(k) for k in list(options) if k.startswith("_")}
        guild_id = kw.get("guild", GUILD_ID)
        cmd = self._command(name, guild_id)
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
                member = self.guilds[guild_id or GUILD_ID].member(self.users[uid])
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
            kw.setdefault("guild", int(message["guild_id"]))
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
        self,
        custom_ids: list[str],
        *,
        channel: int = GENERAL_ID,
        dm: bool = False,
        labels: list[str] | None = None,
    ) -> dict[str, Any]:
        """A message of the bot's with buttons, as if posted before the bot (re)started; each
        button is labelled with its custom id unless `labels` are given."""
        shown = labels or custom_ids
        buttons = [
            {"type": 2, "style": 2, "label": label, "custom_id": cid}
            for cid, label in zip(custom_ids, shown, strict=True)
        ]
        data = {
            "embeds": [{"title": "earlier"}],
            "components": [{"type": 1, "components": buttons}],
        }
        return self._store_message(data, channel, dm=dm)

    async def send(self, payload: dict[str, Any]) -> Interaction:
        """Deliver an INTERACTION_CREATE over the gateway; the record fills in with answers.

        The same interaction (same id) sent again is a redelivery, as Discord makes one: it is
        the same interaction, with the same record, deadline and acknowledgement, so a second
        response to it is refused (400, "already acknowledged")."""
        record = self.record(payload)
        record.deliveries += 1
        await self.dispatch("INTERACTION_CREATE", payload)
        return record

    def record(self, payload: dict[str, Any]) -> Interaction:
        """The record of an interaction (made on first sight), whose responses this server
        takes: `send` delivers it too; a test that hands the payload to the bot by another way
        uses this alone."""
        record = self.interactions.get(str(payload["id"]))
        if record is None:
            record = Interaction(payload, time.monotonic())
            self.interactions[record.id] = record
            self.by_token[record.token] = record
        return record

    async def run(self, payload: dict[str, Any], within: float = 10.0) -> Interaction:
        return await (await self.send(payload)).wait(within)

    async def reply(
        self, user: dict[str, Any], to: dict[str, Any], content: str, *, mention: bool = True
    ) -> dict[str, Any]:
        """A member replies to a message (MESSAGE_CREATE of type 19)."""
        guild = self.guilds[int(to.get("guild_id") or GUILD_ID)]
        reference = {
            "type": 0,
            "message_id": to["id"],
            "channel_id": to["channel_id"],
            "guild_id": str(guild.id),
        }
        msg = member_message(
            guild, user, to["channel_id"], content, mention=mention, kind=19,
            identify=self.identify, message_reference=reference, referenced_message=to,
        )  # fmt: skip
        await self.dispatch("MESSAGE_CREATE", msg)
        return msg

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send an event to the shard that owns its guild (shard 0: an event of no guild)."""
        gid = data.get("guild_id")
        guild_id = int(gid) if gid else None
        session = session_for(self.sessions, guild_id)
        if session is None:
            if not any(not s.ws.closed for s in self.sessions.values()):
                raise RuntimeError("the bot is not connected to the gateway")
            raise RuntimeError(f"no connected shard owns guild {guild_id} ({event})")
        await session.send(event, data)
