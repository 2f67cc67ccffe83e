"""Sending rendered replies: paced by the throttle, subjects remembered, ephemeral replies sent
privately to the member when Telegram lets us (it has no ephemeral messages).

Every reply sent here is a message (a toast, the answer to a button press, is not sent here), so
each one survives an outage of the Bot API: when it cannot be sent now (flood control that
outlasts the interactive wait, a 502/503/504, a network error) it is parked in the outbox, whose
worker delivers it once Telegram answers again, after a restart if need be."""

from __future__ import annotations

import asyncio
import io
import logging
import warnings
from datetime import timedelta

from telegram import (
    Bot,
    InlineKeyboardButton,
    InputFile,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.adapters.telegram.render import Outgoing, render
from bot.adapters.telegram.throttle import SendThrottle
from bot.core.clock import Clock
from bot.core.outbox import Outbox
from bot.core.reply import Reply
from storage.platform.messages import MessagesRepo

log = logging.getLogger(__name__)

PLATFORM = "telegram"
MAX_FLOOD_WAIT = 30.0  # an interactive reply waits this long at most for flood control


def retry_after_seconds(exc: RetryAfter) -> float:
    """`RetryAfter.retry_after` as seconds (PTB 22 warns on reading it until PTB_TIMEDELTA)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def outage_error(exc: Exception) -> bool:
    """Telegram could not take the message now, but may later: flood control, a 5xx (PTB raises
    `NetworkError` for 502 Bad Gateway and the other server errors), a timeout or a lost
    connection. A refused request (`BadRequest`, also a `NetworkError` in PTB) is not one."""
    if isinstance(exc, RetryAfter):
        return True
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)


def unreachable_error(exc: Exception) -> bool:
    """The member never started the bot, blocked it, or the chat is gone."""
    if isinstance(exc, Forbidden):
        return True
    return isinstance(exc, BadRequest) and "chat not found" in exc.message.lower()


class Sender:
    def __init__(
        self,
        bot: Bot,
        throttle: SendThrottle,
        messages: MessagesRepo,
        clock: Clock,
        outbox: Outbox | None = None,
    ) -> None:
        self.bot = bot
        self.throttle = throttle
        self.messages = messages
        self.clock = clock
        # Members we could not message privately, and when we last tried (members.py reads it).
        self._unreachable: dict[int, float] = {}
        # Set on a stop: replies still waiting for a free slot go to the outbox (`stopping`).
        self._closing = asyncio.Event()
        # Where replies that cannot be sent now are parked (an outage, a stop).
        self._outbox = outbox
        self.parked = 0  # replies parked in the outbox (for tests and the log)

    def stopping(self, outbox: Outbox) -> None:
        """The adapter stops: an interactive reply that would wait for the sending limits is
        stored in the outbox instead (its worker delivers it after the restart), so that the
        stop is not held up for minutes by a queue paced at 20 messages a minute per group."""
        self._outbox = outbox
        self._closing.set()

    async def _park(
        self, chat_id: int, reply: Reply, community_id: int, sent: int, why: str
    ) -> None:
        """Store the rest of `reply` (its first `sent` messages went out) for the outbox."""
        assert self._outbox is not None
        await self._outbox.park(
            community_id, PLATFORM, str(chat_id), reply, member=chat_id > 0, parts_sent=sent
        )
        self.parked += 1
        log.warning("telegram: a reply to chat %s is kept in the outbox (%s)", chat_id, why)

    async def _pace(self, chat_id: int, may_park: bool) -> bool:
        """Wait for a free slot and take it; False (no slot taken) when the adapter stops
        meanwhile and the reply may be parked in the outbox."""
        throttle = self.throttle
        if not may_park or (throttle.local_view_is_whole and throttle.delay(chat_id) <= 0):
            await throttle.wait(chat_id)
            return True
        if self._closing.is_set():
            return False
        waiting = asyncio.ensure_future(throttle.wait(chat_id))
        closing = asyncio.ensure_future(self._closing.wait())
        await asyncio.wait({waiting, closing}, return_when=asyncio.FIRST_COMPLETED)
        closing.cancel()
        if not waiting.done():
            waiting.cancel()
            await asyncio.wait({waiting})
        return waiting.done() and not waiting.cancelled()

    async def send(
        self,
        chat_id: int,
        reply: Reply,
        community_id: int | None,
        *,
        reply_to: int | None = None,
        wait_on_flood: bool = True,
        extra_row: list[InlineKeyboardButton] | None = None,
        skip: int = 0,
    ) -> list[Message]:
        """Send `reply` to a chat (without its first `skip` messages: sent before). With
        `wait_on_flood` (interactive replies) a short 429 is waited out, and a reply that
        cannot be sent now (`outage_error`) is parked in the outbox instead; without it the
        error propagates (the outbox reschedules the message)."""
        sent: list[Message] = []
        may_park = wait_on_flood and community_id is not None and self._outbox is not None
        parked = False
        for out in render(reply, extra_row=extra_row)[skip:]:
            for attempt in range(3):
                if not await self._pace(chat_id, may_park):
                    assert community_id is not None
                    await self._park(chat_id, reply, community_id, skip + len(sent), "stopping")
                    parked = True
                    break
                try:
                    sent.append(await self._send_one(chat_id, out, reply_to if not sent else None))
                    break
                except RetryAfter as exc:
                    seconds = retry_after_seconds(exc)
                    if wait_on_flood and seconds <= MAX_FLOOD_WAIT and attempt < 2:
                        log.warning(
                            "telegram flood control: waiting %.0f s for chat %s", seconds, chat_id
                        )
                        await self.throttle.sleep(seconds)
                        continue
                    if not may_park:
                        raise
                    assert community_id is not None
                    await self._park(chat_id, reply, community_id, skip + len(sent), str(exc))
                    parked = True
                    break
                except TelegramError as exc:
                    if not (may_park and outage_error(exc)):
                        raise
                    assert community_id is not None
                    await self._park(chat_id, reply, community_id, skip + len(sent), str(exc))
                    parked = True
                    break
            if parked:
                break
        if reply.subject and community_id is not None:
            now = self.clock.now()
            for message in sent:
                await self.messages.remember(
                    PLATFORM,
                    str(chat_id),
                    str(message.message_id),
                    reply.subject,
                    community_id,
                    now,
                )
        return sent

    async def _send_one(self, chat_id: int, out: Outgoing, reply_to: int | None) -> Message:
        params = (
            ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
            if reply_to
            else None
        )
        if out.document is not None or out.photo is not None:
            caption = out.html or None
            if out.document is not None:
                return await self.bot.send_document(
                    chat_id,
                    InputFile(io.BytesIO(out.document), filename=out.document_name),
                    caption=caption,
                    parse_mode=ParseMode.HTML,
                    reply_markup=out.keyboard,
                    reply_parameters=params,
                )
            return await self.bot.send_photo(
                chat_id,
                InputFile(io.BytesIO(out.photo or b""), filename=out.photo_name),
                caption=caption,
                parse_mode=ParseMode.HTML,
                reply_markup=out.keyboard,
                reply_parameters=params,
            )
        return await self.bot.send_message(
            chat_id,
            out.html,
            parse_mode=ParseMode.HTML,
            reply_markup=out.keyboard,
            reply_parameters=params,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

    async def respond(
        self,
        chat_id: int,
        user_id: int,
        reply: Reply,
        community_id: int | None,
        *,
        reply_to: int | None = None,
        start_link: str | None = None,
        start_label: str = "",
    ) -> None:
        """Answer a member. In a group, an ephemeral reply goes to their private chat with the
        bot; when the bot may not write to them there, it is a reply in the group instead,
        with a button that opens the private chat (`start_link`)."""
        if chat_id < 0 and reply.ephemeral:
            if self._may_try_private(user_id):
                try:
                    await self.send(user_id, reply, community_id)
                    return
                except (Forbidden, BadRequest) as exc:
                    if not unreachable_error(exc):
                        raise
                    self._unreachable[user_id] = self.clock.now().timestamp()
            extra = (
                [InlineKeyboardButton(start_label, url=start_link)]
                if start_link and start_label
                else None
            )
            await self.send(chat_id, reply, community_id, reply_to=reply_to, extra_row=extra)
            return
        await self.send(chat_id, reply, community_id, reply_to=reply_to if chat_id < 0 else None)

    def _may_try_private(self, user_id: int) -> bool:
        """After a refusal, try the private chat again only after ten minutes."""
        failed = self._unreachable.get(user_id)
        if failed is None:
            return True
        if self.clock.now().timestamp() - failed > 600:
            del self._unreachable[user_id]
            return True
        return False

    def reachable_again(self, user_id: int) -> None:
        """The member wrote to the bot privately: private replies work now."""
        self._unreachable.pop(user_id, None)
