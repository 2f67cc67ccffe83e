"""Threads started from a message, as Discord has them.

`POST /channels/{channel}/messages/{message}/threads` (Start Thread from Message) makes a public
thread (channel type 11) whose id is the starter message's id, in the message's channel; the
answer is the thread channel, and THREAD_CREATE (`newly_created`) follows on the gateway. A
message has at most one thread (400, code 160004); a DM has none (400, code 50024); an unknown
channel or message is a 404 (10003, 10008); the name takes 1 to 100 characters. Messages are
then posted to the thread like to any channel (`POST /channels/{thread}/messages`), and a member
writes in it with `thread_message` (MESSAGE_CREATE in the thread: without the message content
intent, its text is empty unless it mentions the bot).
"""

from __future__ import annotations

import asyncio
from typing import Any

from devtools.servers.discord_api.responses import Responses
from devtools.servers.discord_api.world import (
    APP_ID,
    Rejected,
    member_message,
    now_iso,
)

PUBLIC_THREAD = 11
HAS_THREAD = 1 << 5  # message flag of a thread's starter message
ARCHIVE_MINUTES = (60, 1440, 4320, 10080)


class Threads(Responses):
    _thread_events: set[asyncio.Task[None]]

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:  # the gateway's
        raise NotImplementedError

    def start_thread(self, cid: int, mid: str, body: dict[str, Any]) -> dict[str, Any]:
        if cid in self._dm_channels.values():
            raise Rejected(400, 50024, "Cannot execute action on this channel type")
        channel = self._find_channel(cid)
        if channel is None:
            raise Rejected(404, 10003, "Unknown Channel")
        if channel.get("type") == PUBLIC_THREAD:
            raise Rejected(400, 50024, "Cannot execute action on this channel type")
        message = self.messages.get(mid)
        if message is None or mid in self.deleted or message["channel_id"] != str(cid):
            raise Rejected(404, 10008, "Unknown Message")
        guild = self.guild_of_channel(cid)
        assert guild is not None
        if int(mid) in guild.threads:
            raise Rejected(400, 160004, "A thread has already been created for this message")
        name = body.get("name")
        errors: list[str] = []
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            errors.append("name: must be between 1 and 100 in length")
        archive = body.get("auto_archive_duration", 4320)
        if archive not in ARCHIVE_MINUTES:
            errors.append(f"auto_archive_duration: not one of {ARCHIVE_MINUTES}")
        if errors:
            raise Rejected(400, 50035, "Invalid Form Body", errors)
        thread = {
            "id": mid,
            "type": PUBLIC_THREAD,
            "guild_id": str(guild.id),
            "parent_id": str(cid),
            "owner_id": str(APP_ID),
            "name": name,
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": archive,
                "archive_timestamp": now_iso(),
                "locked": False,
                "create_timestamp": now_iso(),
            },
            "total_message_sent": 0,
        }
        guild.threads[int(mid)] = thread
        message["thread"] = thread
        message["flags"] = int(message.get("flags") or 0) | HAS_THREAD
        event = dict(thread, newly_created=True)
        if not hasattr(self, "_thread_events"):
            self._thread_events = set()
        task = asyncio.get_running_loop().create_task(self.dispatch("THREAD_CREATE", event))
        self._thread_events.add(task)
        task.add_done_callback(self._thread_events.discard)
        return thread

    def thread_posts(self, thread_id: int | str) -> list[dict[str, Any]]:
        """The messages posted in a thread, oldest first."""
        return self.channel_messages(int(thread_id))

    async def thread_message(
        self, user: dict[str, Any], thread_id: int | str, content: str, *, mention: bool = False
    ) -> dict[str, Any]:
        """A member writes in a thread (MESSAGE_CREATE of type 0 in the thread's channel)."""
        guild = self.guild_of_channel(int(thread_id))
        if guild is None or int(thread_id) not in guild.threads:
            raise KeyError(f"no thread {thread_id}")
        msg = member_message(
            guild, user, str(thread_id), content, mention=mention, kind=0, identify=self.identify
        )
        await self.dispatch("MESSAGE_CREATE", msg)
        return msg
