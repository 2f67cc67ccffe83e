"""Discord's REST API: the routes the bot uses, the failures a test asks for."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from devtools.servers.discord_api.limits import check_commands, check_message
from devtools.servers.discord_api.shards import recommended_shards
from devtools.servers.discord_api.threads import Threads
from devtools.servers.discord_api.world import APP_ID, BOT_USER, Call, Rejected, snowflake

CALLBACK = re.compile(r"/interactions/(\d+)/([^/]+)/callback")
WEBHOOK = re.compile(r"/webhooks/(\d+)/([^/]+)(?:/messages/([^/]+))?")


class Rest(Threads):
    def gateway_bot(self) -> dict[str, Any]:
        """`GET /gateway/bot`: the gateway URL, the recommended shard count, the start limits."""
        shards = self.recommended_shards or recommended_shards(len(self.guilds))
        return {
            "url": self.gateway_url,
            "shards": shards,
            "session_start_limit": {
                "total": 1000,
                "remaining": 1000 - len(self.identifies),
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }

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
        call = Call(
            request.method,
            path,
            dict(request.query),
            body,
            files,
            user_agent=request.headers.get("User-Agent", ""),
        )
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
        if (m, p) == ("GET", "/gateway/bot"):
            return self.gateway_bot()
        if (m, p) == ("GET", "/gateway"):
            return {"url": self.gateway_bot()["url"]}
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
        if (mt := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", p)) and m == "POST":
            return self.start_thread(int(mt.group(1)), mt.group(2), c.json or {})
        if (mt := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", p)) and m == "DELETE":
            self.deleted.add(mt.group(2))
            return None
        if (mt := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", p)) and m == "PATCH":
            return self._edit_message(int(mt.group(1)), mt.group(2), c.json or {})
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

    def _channel_message(self, cid: int, c: Call) -> dict[str, Any]:
        dm_user = next((int(u) for u, ch in self._dm_channels.items() if ch == cid), None)
        if dm_user is None and self._find_channel(cid) is None:
            raise Rejected(404, 10003, "Unknown Channel")
        if dm_user is not None and dm_user in self.blocked_dms:
            raise Rejected(403, 50007, "Cannot send messages to this user")
        errors = check_message(c.json or {}, len(c.files))
        if errors:
            raise Rejected(400, 50035, "Invalid Form Body", errors)
        payload = c.json or {}
        # enforce_nonce: a message the bot already created with this nonce is returned as it is
        # (Discord keeps nonces for a few minutes; here, for the server's life).
        nonce = (
            str(payload["nonce"]) if payload.get("enforce_nonce") and "nonce" in payload else None
        )
        if nonce is not None and (cid, nonce) in self.nonces:
            return self.messages[self.nonces[(cid, nonce)]]
        message = self._store_message(payload, cid, files=c.files, dm=dm_user is not None)
        if nonce is not None:
            self.nonces[(cid, nonce)] = str(message["id"])
        return message
