"""Rendering replies as Telegram HTML: escaping, splitting, keyboards."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.telegram.render import CAPTION_LIMIT, TEXT_LIMIT, render
from bot.core.reply import Button, Field, Reply, Select, SelectOption
from devtools.servers.telegram_api import ApiError, parse_html


@given(
    title=st.text(max_size=200),
    text=st.text(max_size=3000),
    field=st.text(max_size=100),
    footer=st.text(max_size=100),
)
def test_any_text_renders_to_html_that_parses_back_to_itself(
    title: str, text: str, field: str, footer: str
) -> None:
    reply = Reply(title=title, text=text, fields=[Field(field, field)], footer=footer)
    for out in render(reply):
        plain, _ = parse_html(out.html)  # never an ApiError: everything is escaped
        assert len(plain) <= TEXT_LIMIT
    # Nothing of the user's text is lost (line breaks aside).
    joined = "\n".join(parse_html(o.html)[0] for o in render(reply))
    for part in (title, text, footer):
        for line in part.splitlines():
            assert line.strip() == "" or line in joined


def test_long_text_is_split_at_line_ends_and_keyboard_goes_last() -> None:
    lines = [f"line {i} " + "x" * 90 for i in range(120)]
    reply = Reply(title="Big", text="\n".join(lines), buttons=[Button("+1", "sv:1")])
    out = render(reply)
    assert len(out) == 3
    assert all(o.keyboard is None for o in out[:-1])
    assert out[-1].keyboard is not None
    texts = [parse_html(o.html)[0] for o in out]
    assert all(len(t) <= TEXT_LIMIT for t in texts)
    assert "\n".join(texts).count("line ") == 120


def test_photo_caption_falls_back_to_the_title_when_text_is_long() -> None:
    reply = Reply(title="Four-grid <week 48>", text="y" * 2000, image=b"png")
    photo, rest = render(reply)
    assert photo.photo == b"png" and photo.html == "<b>Four-grid &lt;week 48&gt;</b>"
    assert parse_html(rest.html)[0] == "y" * 2000
    short = render(Reply(title="T", text="small", image=b"png"))
    assert len(short) == 1 and len(parse_html(short[0].html)[0]) <= CAPTION_LIMIT


def test_select_options_and_buttons_become_callback_data() -> None:
    reply = Reply(
        text="Pick",
        buttons=[Button("Yes", "p:y"), Button("No", "p:n")],
        select=Select("grid", (SelectOption("Love it", "fg:1:love", "best"),)),
    )
    (out,) = render(reply)
    assert out.keyboard is not None
    rows = [[(b.text, b.callback_data) for b in row] for row in out.keyboard.inline_keyboard]
    assert rows == [[("Yes", "p:y"), ("No", "p:n")], [("Love it — best", "fg:1:love")]]


def test_callback_data_over_64_bytes_is_refused() -> None:
    button = Button("ok", "x:" + "é" * 31)  # 64 bytes: allowed
    assert render(Reply(text="t", buttons=[button]))
    with pytest.raises(ValueError):
        Button("no", "x:" + "é" * 32)


def test_fake_rejects_unescaped_html_like_telegram() -> None:
    with pytest.raises(ApiError):
        parse_html("<script>alert(1)</script>")
    with pytest.raises(ApiError):
        parse_html("a & b")
    assert parse_html(html.escape("<b>&</b>"))[0] == "<b>&</b>"
