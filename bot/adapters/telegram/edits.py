"""Keeping live counts on a message's buttons current: after a vote the keyboard is edited.

A burst of votes on one message makes few edits, not one each: at most one edit of a message is
on its way at a time, and votes that come in meanwhile only mark the message as changed; one
more edit follows, with the counts read after the last of them. Two edits of one message are at
least `min_interval` apart, and every edit takes its slot in the send throttle like a message,
so edits never push the bot into Telegram's flood control and leave room for real messages.

The labels are asked of the core (`Dispatcher.relabel`) when the edit is made, so an edit always
shows the counts as stored then, whatever order the votes came in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, RetryAfter, TelegramError

from bot.adapters.telegram.sender import MAX_FLOOD_WAIT, retry_after_seconds
from bot.adapters.telegram.throttle import SendThrottle
from bot.core.context import Context

log = logging.getLogger(__name__)

EDIT_INTERVAL = 5.0  # seconds between two edits of one message
REMEMBERED = 10_000  # messages whose last keyboard is kept, to skip edits that change nothing

Key = tuple[int, int]  # chat id, message id
# The keyboard as it should be now, given the one shown; None when nothing changes.
Relabel = Callable[[InlineKeyboardMarkup], Awaitable[InlineKeyboardMarkup | None]]
# (callback data, label shown) -> the label to show now, or None to keep it.
LabelFor = Callable[[str, str], Awaitable[str | None]]


async def relabelled(
    markup: InlineKeyboardMarkup, label_for: LabelFor
) -> InlineKeyboardMarkup | None:
    """`markup` with each callback button's label brought up to date; None if none changed."""
    rows: list[list[InlineKeyboardButton]] = []
    changed = False
    for row in markup.inline_keyboard:
        new_row: list[InlineKeyboardButton] = []
        for button in row:
            data = button.callback_data
            if isinstance(data, str):
                label = await label_for(data, button.text)
                if label and label != button.text:
                    button = InlineKeyboardButton(label, callback_data=data)
                    changed = True
            new_row.append(button)
        rows.append(new_row)
    return InlineKeyboardMarkup(rows) if changed else None


class KeyboardEdits:
    def __init__(
        self, bot: Bot, throttle: SendThrottle, *, min_interval: float = EDIT_INTERVAL
    ) -> None:
        self.bot = bot
        self.throttle = throttle
        self.min_interval = min_interval
        self._wanted: dict[Key, Relabel] = {}  # an edit is due; the latest way to make it
        self._running: dict[Key, asyncio.Task[None]] = {}
        self._shown: dict[Key, tuple[InlineKeyboardMarkup, float]] = {}  # ours, and when
        self.edits = 0  # edits made (benchmarks and tests)

    def request(
        self, chat_id: int, message_id: int, seen: InlineKeyboardMarkup, relabel: Relabel
    ) -> None:
        """The counts on this message may have changed (`seen`: its keyboard as the update
        showed it). Returns at once; the edit happens in the background."""
        key = (chat_id, message_id)
        if key not in self._shown:
            self._shown[key] = (seen, float("-inf"))
        self._wanted[key] = relabel
        if key not in self._running:
            self._running[key] = asyncio.create_task(self._run(key), name=f"telegram-edit-{key}")

    def changed(self, ctx: Context, message: Message, action: str | None = None) -> None:
        """A press of `action` on `message` (or a reply to it) may have changed what its
        buttons show: bring them up to date. Nothing to do for actions that show no state."""
        markup = message.reply_markup
        dispatcher = ctx.app.dispatcher
        if markup is None or (action is not None and not dispatcher.refreshes(action)):
            return

        async def label_for(data: str, label: str) -> str | None:
            return await dispatcher.relabel(ctx, data, label)

        async def relabel(shown: InlineKeyboardMarkup) -> InlineKeyboardMarkup | None:
            return await relabelled(shown, label_for)

        self.request(message.chat.id, message.message_id, markup, relabel)

    async def settle(self) -> None:
        """Wait until every edit that is due has been made."""
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def close(self, grace: float = 2.0) -> None:
        """Finish the edits on their way for at most `grace` seconds, then give up the rest."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.settle()), grace)
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._wanted.clear()

    async def _run(self, key: Key) -> None:
        try:
            while key in self._wanted:
                last = self._shown[key][1]
                wait = last + self.min_interval - self.throttle.now()
                if wait > 0:
                    await self.throttle.sleep(wait)  # more votes gather meanwhile
                relabel = self._wanted.pop(key)
                if not await self._edit(key, relabel):
                    break
        except Exception:
            log.exception("telegram: could not update the buttons of message %s", key)
        finally:
            self._running.pop(key, None)
            self._wanted.pop(key, None)
            self._forget_old()

    async def _edit(self, key: Key, relabel: Relabel) -> bool:
        """One edit with the labels as they are now; False when the message cannot be edited."""
        markup = await relabel(self._shown[key][0])
        if markup is None:
            return True
        chat_id, message_id = key
        await self.throttle.wait(chat_id)
        try:
            await self.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=markup)
        except RetryAfter as exc:
            seconds = retry_after_seconds(exc)
            if seconds > MAX_FLOOD_WAIT:
                log.warning("telegram: flood control on edits of %s; skipping it", key)
                return False
            await self.throttle.sleep(seconds)
            self._wanted.setdefault(key, relabel)  # try again, with the counts of then
            return True
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                log.info("telegram: message %s cannot be edited: %s", key, exc.message)
                return False  # deleted, too old, or no longer ours
        except TelegramError as exc:
            log.warning("telegram: editing the buttons of %s failed: %s", key, exc)
            return False
        else:
            self.edits += 1
        self._shown[key] = (markup, self.throttle.now())
        return True

    def _forget_old(self) -> None:
        if len(self._shown) <= REMEMBERED:
            return
        horizon = self.throttle.now() - self.min_interval
        for key in [k for k, (_, at) in self._shown.items() if at < horizon]:
            if key not in self._running:
                del self._shown[key]
