"""The local Discord server: REST v10 under `/api/v10`, the gateway at `/gateway`, and the
bench's control routes under `/_fake`."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

from aiohttp import WSMsgType, web

from devtools.servers.discord_api.events import Events
from devtools.servers.discord_api.shards import (
    INVALID_SHARD,
    MAX_GUILDS_PER_SHARD,
    SHARDING_REQUIRED,
    Session,
    shard_field,
)
from devtools.servers.discord_api.world import APP_ID, BOT_USER, Call, snowflake


class FakeDiscord(Events):
    """Discord on 127.0.0.1: REST v10 under `/api/v10`, the gateway at `/gateway`."""

    # -- server ----------------------------------------------------------------------------

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
        for session in list(self.sessions.values()):
            if not session.ws.closed:
                await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- the world ---------------------------------------------------------------------------

    def fail(self, method: str, path: str, status: int, *, times: int = 1, **body: Any) -> None:
        """Answer the next `times` requests matching `method` and the path regex with `status`.
        A 429 gets Discord's `retry_after` body and headers (pass retry_after=seconds)."""
        self._failures.append((method, re.compile(path), status, body, [times]))

    def recover(self) -> None:
        """The outage is over: no failure asked for with `fail` is left."""
        self._failures.clear()

    def edits(self, message_id: str) -> list[Call]:
        """Every edit of a message asked for with the bot token (also the refused ones)."""
        return self.calls_to("PATCH", rf"/channels/\d+/messages/{message_id}")

    def labels(self, message_id: str) -> list[str]:
        """The labels of a message's buttons as Discord shows them now."""
        rows = self.messages[message_id].get("components") or []
        return [c.get("label", "") for row in rows for c in row.get("components") or []]

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

    async def wait_shards(self, *shard_ids: int, within: float = 10.0) -> None:
        """Until each of these shards has identified and been sent its guilds."""

        async def until() -> None:
            async with self._gateway_changed:
                await self._gateway_changed.wait_for(
                    lambda: all(
                        i in self.sessions and not self.sessions[i].ws.closed for i in shard_ids
                    )
                )

        await asyncio.wait_for(until(), within)

    # -- gateway ---------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        session: Session | None = None
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                if frame["op"] == 1:
                    await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
                elif frame["op"] == 2:
                    session = await self._identify(ws, frame["d"])
                    if session is None:
                        break
        finally:
            if session is not None and self.sessions.get(session.shard_id) is session:
                del self.sessions[session.shard_id]
                async with self._gateway_changed:
                    self._gateway_changed.notify_all()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> Session | None:
        """Start the session of an IDENTIFY: READY, then a GUILD_CREATE for each guild of its
        shard. None when the shard is refused (the connection is closed, as Discord does)."""
        self.identify = data
        self.identifies.append(data)
        shard = shard_field(data)
        if shard is None:
            await ws.close(code=INVALID_SHARD, message=b"Invalid shard.")
            return None
        session = Session(ws, shard[0], shard[1], data)
        owned = [g for g in self.guilds.values() if session.owns(g.id)]
        if len(owned) > MAX_GUILDS_PER_SHARD:
            await ws.close(code=SHARDING_REQUIRED, message=b"Sharding required.")
            return None
        self.sessions[session.shard_id] = session
        await session.send(
            "READY",
            {
                "v": 10,
                "user": BOT_USER,
                "guilds": [{"id": str(g.id), "unavailable": True} for g in owned],
                "session_id": f"fake-session-{session.shard_id}-{len(self.identifies)}",
                "resume_gateway_url": self.gateway_url,
                "shard": [session.shard_id, session.shard_count],
                "application": {"id": str(APP_ID), "flags": 0},
            },
        )
        for guild in owned:
            await session.send("GUILD_CREATE", guild.payload(self.users))
        self.identified.set()
        async with self._gateway_changed:
            self._gateway_changed.notify_all()
        return session

    # -- bench control ---------------------------------------------------------------------------

    async def _burst_start(self, request: web.Request) -> web.Response:
        """Send `count` presses of `custom_id` by distinct new members: as fast as possible, or
        `rate` per second. Answers at once; `GET /_fake/burst` follows the progress."""
        spec = await request.json()
        label = spec.get("label")
        message = self.bot_message([spec["custom_id"]], labels=[label] if label else None)
        self._burst_message = message["id"]
        first = int(spec.get("first_user_id", 1300000000000000000))
        payloads = []
        for i in range(int(spec["count"])):
            user = self.add_user(f"fan{i}", uid=first + i)
            payloads.append(self.press(user, message, spec["custom_id"]))
        self._burst = []
        self._burst_cpu = time.process_time()
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
            payload["id"] = snowflake()  # created now, as a click makes it: its clock starts
            self._burst.append(await self.send(payload))
            # Discord's gateway and REST API are separate services: keep answering requests
            # while the burst goes out.
            await asyncio.sleep(0)

    async def _burst_status(self, request: web.Request) -> web.Response:
        records = self._burst
        now = time.monotonic()
        # An interaction nobody answered within the deadline is late too: the bot may rightly
        # send nothing for it (Discord would refuse it).
        late = sum(
            1
            for r in records
            if r.late or (r.ack_type is None and now - r.sent_at > self.ack_deadline)
        )
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
                "late": late,
                "first_sent": min((r.sent_at for r in records), default=0.0),
                "last_sent": max((r.sent_at for r in records), default=0.0),
                "last_answered": max(answered, default=0.0),
                "card_labels": self.labels(self._burst_message) if self._burst_message else [],
                "card_edits": sum(1 for c in self.edits(self._burst_message) if c.status == 200)
                if self._burst_message
                else 0,
                # CPU seconds this server process used since the burst started: the server
                # must not be what limits the bench.
                "server_cpu_s": round(time.process_time() - self._burst_cpu, 2),
                "ack_ms": [round((r.ack_at - r.sent_at) * 1000, 3) for r in acked if r.ack_at],
            }
        )


async def serve_forever(host: str = "127.0.0.1", port: int = 0) -> None:
    """Run a FakeDiscord until cancelled (`python -m devtools.servers.discord_api [port]`)."""
    fake = await FakeDiscord(host=host, port=port).start()
    print(f"api base {fake.api_base}\ngateway  {fake.gateway_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()
