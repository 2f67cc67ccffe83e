"""Interaction responses and follow-ups: Discord's callback and webhook routes."""

from __future__ import annotations

import time
from typing import Any

from devtools.servers.discord_api.limits import check_message, check_modal
from devtools.servers.discord_api.store import Store
from devtools.servers.discord_api.world import GENERAL_ID, Call, Rejected


class Responses(Store):
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
        record = self.by_token.get(token)
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
