"""A member who writes traditional Chinese, as in Taiwan or Hong Kong: answered in it, and the
words the messages ask for ("預約", "頂") work in it too."""

from __future__ import annotations

from bot.adapters.console import ConsoleAdapter
from bot.adapters.console.adapter import OutEvent


def texts(events: list[OutEvent]) -> str:
    return "\n".join(e.reply.plain_text() for e in events)


async def say(console: ConsoleAdapter, *lines: str) -> list[OutEvent]:
    out: list[OutEvent] = []
    for line in lines:
        out.extend(await console.handle_line(line))
    return out


async def test_a_reply_in_traditional_characters_votes_and_reserves(
    console: ConsoleAdapter,
) -> None:
    await say(console, "/as boss owner", '/drop create "Redmi Note" 2 "2027-06-01 12:00" flash')
    await say(console, "/as ken fan", "/language zh_tw")
    card = texts(await say(console, "/drop show 1"))
    assert "回覆本訊息“預約”" in card  # what the card asks for, as Taiwan writes it
    assert "已預約「Redmi Note」" in texts(await say(console, "> 預約"))

    await say(console, "/as mei fan", '/suggest "夜間模式"', "/as ken fan")
    assert "現在 2 票" in texts(await say(console, "> 頂"))  # 顶, "up"


async def test_a_community_can_post_in_traditional_chinese(console: ConsoleAdapter) -> None:
    await say(console, "/as boss owner", "/settings language zh_tw")
    assert "zh_TW" in texts(await say(console, "/settings language"))
    card = texts(await say(console, "/as mei fan", '/suggest "Dark mode"'))
    assert "新需求" in card and "票數" in card and "狀態" in card, card
