"""Reading updates: a button press built around a shared parse of its message reads exactly as
python-telegram-bot's own parsing of the leaned update does, and the message of a card pressed
by many members is parsed once."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Bot, Update

from bot.adapters.telegram.reader import UpdateReader, lean
from devtools.servers.telegram_api import BOT_USER, callback_update, group, message_update, user

BOT = Bot("7000001:reader-test")


def _card(message_id: int = 1, labels: tuple[str, ...] = ("👍 1",)) -> dict[str, Any]:
    keyboard = [[{"text": label, "callback_data": f"sv:{i}"} for i, label in enumerate(labels)]]
    return {
        "message_id": message_id,
        "date": 1_700_000_000,
        "chat": group(-100, "Fans"),
        "from": BOT_USER,
        "text": "Dark mode",
        "entities": [{"type": "bold", "offset": 0, "length": 4}],
        "reply_markup": {"inline_keyboard": keyboard},
    }


def _as_ptb_reads_it(raw: dict[str, Any]) -> dict[str, Any]:
    return Update.de_json(lean(raw), BOT).to_dict()


NAMES = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12)
PRESSES = st.builds(
    lambda uid, name, username, locale, data, message_id, labels, query_id: callback_update(
        user(uid, name, username=username, language_code=locale),
        _card(message_id, labels),
        data,
        query_id=query_id,
    ),
    st.integers(1, 2**40),
    NAMES,
    st.none() | st.from_regex(r"[a-z][a-z0-9_]{4,10}", fullmatch=True),
    st.none() | st.sampled_from(["en", "zh-hans", "pt-br"]),
    st.text(max_size=20),
    st.integers(1, 3),
    st.lists(NAMES, min_size=1, max_size=3).map(tuple),
    st.none() | st.from_regex(r"[0-9]{6,12}", fullmatch=True),
)


@settings(max_examples=80, deadline=None)
@given(presses=st.lists(PRESSES, min_size=1, max_size=6))
def test_a_press_reads_as_python_telegram_bot_reads_it(presses: list[dict[str, Any]]) -> None:
    reader = UpdateReader(BOT, kept=2)  # small: entries are dropped and read again
    for raw in presses:
        update = reader.read(raw)
        assert update.to_dict() == _as_ptb_reads_it(raw)
        assert update.get_bot() is BOT and update.callback_query is not None
        assert update.callback_query.get_bot() is BOT


def test_the_card_of_a_burst_is_parsed_once_and_again_when_its_keyboard_changed() -> None:
    reader = UpdateReader(BOT)
    card = _card()
    updates = [
        reader.read(callback_update(user(10 + i, f"Fan {i}"), card, "sv:0")) for i in range(50)
    ]
    assert reader.messages_parsed == 1
    assert len({id(u.callback_query.message) for u in updates if u.callback_query}) == 1
    assert {u.callback_query.from_user.id for u in updates if u.callback_query} == set(
        range(10, 60)
    )
    relabelled = reader.read(callback_update(user(99, "Late"), _card(labels=("👍 51",)), "sv:0"))
    assert reader.messages_parsed == 2
    assert relabelled.callback_query is not None
    markup = relabelled.callback_query.message.reply_markup  # type: ignore[union-attr]
    assert markup is not None and markup.inline_keyboard[0][0].text == "👍 51"


def test_what_the_shortcut_does_not_know_is_read_by_python_telegram_bot() -> None:
    reader = UpdateReader(BOT)
    card = _card()
    unknown_field = callback_update(user(1, "A"), card, "sv:0")
    unknown_field["callback_query"]["new_field"] = {"x": 1}  # a Bot API field from later
    inaccessible = callback_update(user(2, "B"), {**card, "date": 0}, "sv:0")
    inline = callback_update(user(3, "C"), card, "sv:0")
    del inline["callback_query"]["message"]
    inline["callback_query"]["inline_message_id"] = "abc"
    text = message_update(group(-100, "Fans"), user(4, "D"), "/help")
    for raw in (unknown_field, inaccessible, inline, text):
        assert reader.read(raw).to_dict() == _as_ptb_reads_it(raw)
    assert reader.read(unknown_field).callback_query.api_kwargs == {"new_field": {"x": 1}}  # type: ignore[union-attr]
    assert reader.messages_parsed == 0


def test_what_orjson_refuses_is_read_all_the_same() -> None:
    """A lone surrogate (Telegram's JSON may carry one escaped): the card's key and the Bot API's
    answer fall back to the standard library."""
    from bot.adapters.telegram.api import _loads

    reader = UpdateReader(BOT)
    odd = callback_update(user(1, "A"), {**_card(), "chat": group(-100, "Fans \ud800")}, "sv:0")
    assert reader.read(odd).to_dict() == _as_ptb_reads_it(odd)
    assert reader.read(odd).callback_query.message.chat.title == "Fans \ud800"  # type: ignore[union-attr]
    assert reader.messages_parsed == 1
    assert _loads(b'{"ok": true, "result": [{"t": "\\ud800"}]}') == {
        "ok": True,
        "result": [{"t": "\ud800"}],
    }
    assert _loads(b'{"ok":true}') == {"ok": True}
