"""Keeping live counts on a message's buttons current: after a vote the message is edited.

The coalescing is shared with the other adapters (`bot.adapters.coalesced_edits.MessageEdits`:
one edit of a message on its way at a time, the votes meanwhile folded into one more edit, at least
`edit_interval` seconds between two edits of a message). What is Discord's here:

- the edit is `PATCH /channels/{channel}/messages/{message}` with the bot token and the
  components alone (the embed is left as it was); it works alike for a press and a "+1" reply,
  for messages sent as interaction responses, follow-ups or posts, in servers and in DMs, and
  for messages from before a restart. discord.py keeps the route's rate-limit bucket (the
  channel's) from Discord's headers and waits out a 429 of up to 30 s itself; a longer one
  (up to five minutes) makes the edit wait and go again with the counts of then;
- edits wait for a burst to be acknowledged and take the last place in the adapter's response
  gate, after acknowledgements, answers and new work, so they never delay the answer to a press;
- ephemeral messages are not edited (the channel route cannot reach them; only their owner sees
  them, and the answer to the press gives the count).
"""

from __future__ import annotations

from typing import Any

import discord

from bot.adapters.coalesced_edits import EditLater, EditRefused, LabelFor, MessageEdits
from bot.adapters.discord.gate import EDIT
from bot.adapters.discord.respond import Responder
from bot.core.context import Context

MAX_RATE_LIMIT_WAIT = 300.0  # seconds an edit waits at most for a long rate limit
Key = tuple[int, int]  # channel id, message id
Components = list[dict[str, Any]]  # a message's action rows, as Discord's JSON


async def patch_message(
    client: discord.Client,
    responder: Responder,
    channel_id: int | str,
    message_id: int | str,
    body: dict[str, Any],
) -> None:
    """Edit a message of the bot's with the bot token, in the last place of the response gate."""
    route = discord.http.Route(
        "PATCH",
        "/channels/{channel_id}/messages/{message_id}",
        channel_id=channel_id,
        message_id=message_id,
    )
    async with responder.slot(EDIT):
        await client.http.request(route, json=body)


async def relabelled(rows: Components, label_for: LabelFor) -> Components | None:
    """`rows` with each button's label brought up to date; None if none changed."""
    out: Components = []
    changed = False
    for row in rows:
        children = []
        for child in row.get("components") or []:
            custom_id, label = child.get("custom_id"), child.get("label")
            if child.get("type") == 2 and isinstance(custom_id, str) and isinstance(label, str):
                new = await label_for(custom_id, label)
                if new and new != label:
                    child = dict(child, label=new[:80])
                    changed = True
            children.append(child)
        out.append(dict(row, components=children))
    return out if changed else None


class CardEdits:
    def __init__(self, client: discord.Client, responder: Responder) -> None:
        self.client = client
        self.responder = responder
        self._edits: MessageEdits[Key, Components] = MessageEdits(
            self._edit,
            min_interval=responder.tuning.edit_interval,
            max_wait=MAX_RATE_LIMIT_WAIT,
            name="discord",
        )

    @property
    def edits(self) -> int:
        """Edits made (benchmarks and tests)."""
        return self._edits.edits

    def changed(self, ctx: Context, message: discord.Message, action: str | None = None) -> None:
        """A press of `action` on `message` (or a "+1" reply to it) may have changed what its
        buttons show: bring them up to date. Nothing to do for actions that show no state."""
        dispatcher = self.responder.app.dispatcher
        if message.flags.ephemeral or not message.components:
            return
        if action is not None and not dispatcher.refreshes(action):
            return
        seen: Components = [dict(c.to_dict()) for c in message.components]

        async def label_for(custom_id: str, label: str) -> str | None:
            return await dispatcher.relabel(ctx, custom_id, label)

        async def relabel(shown: Components) -> Components | None:
            await self.responder.quiet()  # acknowledgements and answers first
            return await relabelled(shown, label_for)

        self._edits.request((message.channel.id, message.id), seen, relabel)

    async def settle(self) -> None:
        await self._edits.settle()

    async def close(self, grace: float = 2.0) -> None:
        await self._edits.close(grace)

    async def _edit(self, key: Key, rows: Components) -> bool:
        channel_id, message_id = key
        try:
            await patch_message(
                self.client, self.responder, channel_id, message_id, {"components": rows}
            )
        except discord.RateLimited as exc:  # longer than discord.py waits by itself
            raise EditLater(exc.retry_after) from exc
        except discord.HTTPException as exc:  # deleted, not ours any more, or Discord failing
            raise EditRefused(f"{exc.status} {exc.text}") from exc
        return True
