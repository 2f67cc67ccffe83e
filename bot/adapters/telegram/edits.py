"""Keeping live counts on a message's buttons current: after a vote the keyboard is edited.

The coalescing is shared with the other adapters (`bot.adapters.coalesced_edits.MessageEdits`:
one edit of a message on its way at a time, the changes meanwhile folded into one more edit, at
least `min_interval` between two edits of a message). What is Telegram's here: the inline
keyboard is edited alone (`editMessageReplyMarkup`), every edit takes its slot in the send
throttle like a message, so edits never push the bot into Telegram's flood control and leave
room for real messages, and "message is not modified" is no failure.

The labels are asked of the core (`Dispatcher.relabel`) when the edit is made, so an edit always
shows the counts as stored then, whatever order the votes came in.
"""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, RetryAfter, TelegramError

from bot.adapters.coalesced_edits import EditLater, EditRefused, LabelFor, MessageEdits
from bot.adapters.telegram.sender import MAX_FLOOD_WAIT, retry_after_seconds
from bot.adapters.telegram.throttle import SendThrottle
from bot.core.context import Context
from bot.core.dispatch import Dispatcher

EDIT_INTERVAL = 5.0  # seconds between two edits of one message

Key = tuple[int, int]  # chat id, message id


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
        self._edits: MessageEdits[Key, InlineKeyboardMarkup] = MessageEdits(
            self._edit,
            min_interval=min_interval,
            max_wait=MAX_FLOOD_WAIT,
            now=throttle.now,
            sleep=throttle.sleep,
            name="telegram",
        )

    @property
    def edits(self) -> int:
        """Edits made (benchmarks and tests)."""
        return self._edits.edits

    def changed(
        self, dispatcher: Dispatcher, ctx: Context, message: Message, action: str | None = None
    ) -> None:
        """A press of `action` on `message` (or a reply to it) may have changed what its
        buttons show: bring them up to date with the labels `dispatcher` gives. Nothing to do
        for actions that show no state."""
        markup = message.reply_markup
        if markup is None or (action is not None and not dispatcher.refreshes(action)):
            return

        async def label_for(data: str, label: str) -> str | None:
            return await dispatcher.relabel(ctx, data, label)

        async def relabel(shown: InlineKeyboardMarkup) -> InlineKeyboardMarkup | None:
            return await relabelled(shown, label_for)

        self._edits.request((message.chat.id, message.message_id), markup, relabel)

    async def settle(self) -> None:
        """Wait until every edit that is due has been made."""
        await self._edits.settle()

    async def close(self, grace: float = 2.0) -> None:
        """Finish the edits on their way for at most `grace` seconds, then give up the rest."""
        await self._edits.close(grace)

    async def _edit(self, key: Key, markup: InlineKeyboardMarkup) -> bool:
        chat_id, message_id = key
        await self.throttle.wait(chat_id)
        try:
            await self.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=markup)
        except RetryAfter as exc:
            raise EditLater(retry_after_seconds(exc)) from exc
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return False
            raise EditRefused(exc.message) from exc  # deleted, too old, or no longer ours
        except TelegramError as exc:
            raise EditRefused(str(exc)) from exc
        return True
