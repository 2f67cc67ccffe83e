from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.actions import make_action, split_action
from bot.core.reply import Button, Field, Reply, Select, SelectOption


def test_actions_fit_telegram_callback_data() -> None:
    assert make_action("sv", 123456789) == "sv:123456789"
    assert split_action("fg:3:12:love") == ("fg", ["3", "12", "love"])
    with pytest.raises(ValueError):
        Button("x", "sv:" + "9" * 62)
    with pytest.raises(ValueError):
        Button("x", "noprefix")
    Button("x", "sv:" + "9" * 61)  # exactly 64 bytes is fine


text = st.text(max_size=50)


@given(
    title=text,
    body=text,
    image=st.one_of(st.none(), st.binary(min_size=1, max_size=64)),
    labels=st.lists(text, max_size=4),
    ephemeral=st.booleans(),
)
def test_reply_round_trips_through_the_outbox_format(
    title: str, body: str, image: bytes | None, labels: list[str], ephemeral: bool
) -> None:
    reply = Reply(
        text=body,
        title=title,
        fields=[Field("a", body, True)],
        image=image,
        buttons=[Button(label, f"sv:{i}") for i, label in enumerate(labels)],
        select=Select("pick", (SelectOption("one", "ss:1"),)),
        ephemeral=ephemeral,
        subject="sg:1",
        footer="f",
    )
    assert Reply.from_dict(reply.to_dict()) == reply
