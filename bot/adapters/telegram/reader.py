"""Reading an update into python-telegram-bot's objects, cheaply for button presses.

A callback query carries the whole message its button is on. python-telegram-bot's parsing
of that message (`Message.de_json`: the chat, the sender, the keyboard, a guarded attribute set
for each field) was three quarters of the cost of reading a press, and in a burst thousands of
presses carry the same card. So the message is read once and its object shared by every press
that carries the same message (same chat, id, date, sender and keyboard, compared as JSON); the
press itself (who pressed, the button's data) is built around it. python-telegram-bot's objects
are frozen once built, so sharing one is safe. Anything else, or a press with fields this does
not know, is parsed by python-telegram-bot as it is.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import orjson
from telegram import Bot, CallbackQuery, Message, Update, User

# What a button press needs of the message its button is on: where it is and its keyboard.
PRESSED_MESSAGE_KEYS = ("message_id", "date", "chat", "from", "reply_markup")
# The fields of a callback query built here; a query with any other is parsed as it is.
QUERY_KEYS = frozenset(
    {"id", "from", "chat_instance", "message", "data", "inline_message_id", "game_short_name"}
)
MESSAGES_KEPT = 256  # pressed messages remembered (the cards of a burst are few)

Raw = dict[str, Any]


def lean(raw: Raw) -> Raw:
    """The update without what the adapter never reads and python-telegram-bot is slow to
    parse: the text and entities of the message whose button was pressed (a card's entities
    were most of the cost of parsing a press)."""
    query = raw.get("callback_query")
    if not isinstance(query, dict):
        return raw
    message = query.get("message")
    if not isinstance(message, dict) or not message.get("date"):
        return raw  # an inaccessible message (date 0) is parsed as it is
    return {**raw, "callback_query": {**query, "message": _kept(message)}}


def _kept(message: Raw) -> Raw:
    return {k: message[k] for k in PRESSED_MESSAGE_KEYS if k in message}


class UpdateReader:
    def __init__(self, bot: Bot, kept: int = MESSAGES_KEPT) -> None:
        self.bot = bot
        self.kept = kept
        self._messages: OrderedDict[bytes, Message] = OrderedDict()
        self.messages_parsed = 0  # pressed messages read by python-telegram-bot (tests)

    def read(self, raw: Raw) -> Update:
        """`raw` as python-telegram-bot's `Update` (a press's message leaned, see `lean`)."""
        query = raw.get("callback_query")
        if (
            not isinstance(query, dict)
            or raw.keys() != {"update_id", "callback_query"}
            or not query.keys() <= QUERY_KEYS
            or not isinstance(query.get("from"), dict)
        ):
            return Update.de_json(lean(raw), self.bot)
        message = query.get("message")
        pressed: Message | None = None
        if message is not None:
            if not isinstance(message, dict) or not message.get("date"):
                return Update.de_json(raw, self.bot)  # an inaccessible message: as it is
            pressed = self._message(_kept(message))
        press = CallbackQuery(
            id=query["id"],
            from_user=User.de_json(query["from"], self.bot),
            chat_instance=query["chat_instance"],
            message=pressed,
            data=query.get("data"),
            inline_message_id=query.get("inline_message_id"),
            game_short_name=query.get("game_short_name"),
        )
        press.set_bot(self.bot)
        update = Update(update_id=raw["update_id"], callback_query=press)
        update.set_bot(self.bot)
        return update

    def _message(self, kept: Raw) -> Message:
        key = _key(kept)
        message = self._messages.get(key)
        if message is not None:
            self._messages.move_to_end(key)
            return message
        message = Message.de_json(kept, self.bot)
        self.messages_parsed += 1
        self._messages[key] = message
        if len(self._messages) > self.kept:
            self._messages.popitem(last=False)
        return message


def _key(kept: Raw) -> bytes:
    """The pressed message's content as canonical JSON (orjson: a tenth of the stdlib's cost;
    the stdlib for what orjson refuses, such as a lone surrogate)."""
    try:
        return orjson.dumps(kept, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(kept, separators=(",", ":"), sort_keys=True).encode()
