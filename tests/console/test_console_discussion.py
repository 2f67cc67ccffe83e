"""A suggestion's discussion end to end through the console: comments, the latest under
/show, removing comments, following, and notifications summed up for a busy discussion."""

from __future__ import annotations

from bot.adapters.console import ConsoleAdapter, OutEvent
from tests.console.test_suggestion_loop import run


def to(events: list[OutEvent], who: str) -> list[str]:
    return [e.reply.plain_text() for e in events if e.to == who]


async def test_comments_show_under_the_suggestion(console: ConsoleAdapter) -> None:
    await run(console, '/as alice fan\n/suggest "Dark mode" "Too bright at night"\n/as bob fan')
    hostile = "<b>tablets</b> & @everyone <@123> *bold*"
    added = await console.handle_line(f"/comment 1 {hostile}")
    assert to(added, "bob") == ["💬 Comment 1 added to #1 Dark mode."]
    for n in range(2, 8):
        await console.handle_line(f"/comment 1 comment number {n}")
    (shown,) = await console.handle_line("/show 1")
    text = shown.reply.plain_text()
    assert "Comments (7)" in text and "… 2 earlier" in text
    assert hostile not in text  # the two oldest are counted, not listed
    assert [f"[{n}] bob: comment number {n}" in text for n in range(3, 8)] == [True] * 5

    # Blank, too long, unknown suggestion: refused with the reason, nothing kept.
    refused = [
        await console.handle_line(line)
        for line in ("/comment 1 \u200b\u200b", "/comment 1 " + "x" * 1001, "/comment 99 hi")
    ]
    assert [e[0].reply.error for e in refused] == [True, True, True]
    assert "at most 1000" in refused[1][0].reply.plain_text()
    assert "#99" in refused[2][0].reply.plain_text()
    (shown,) = await console.handle_line("/show 1")
    assert "Comments (7)" in shown.reply.plain_text()

    # In Chinese.
    await console.handle_line("/language zh_cn")
    (shown,) = await console.handle_line("/show 1")
    assert "评论（7）" in shown.reply.plain_text()
    (added,) = await console.handle_line("/comment 1 同意")
    assert added.reply.plain_text() == "💬 已在 #1 Dark mode 下发表评论 8。"


async def test_authors_delete_their_comments_and_admins_hide_any(console: ConsoleAdapter) -> None:
    await run(
        console,
        """
        /as alice fan
        /suggest "Dark mode" "Too bright at night"
        /as bob fan
        /comment 1 spam spam spam
        /comment 1 a real question
        /as carol fan
    """,
    )
    (refused,) = await console.handle_line("/uncomment 1")
    assert refused.reply.error and "not yours" in refused.reply.plain_text()
    (refused,) = await console.handle_line("/hidecomment 1")  # a fan may not
    assert refused.reply.error
    (missing,) = await console.handle_line("/uncomment 42")
    assert missing.reply.error and "no comment 42" in missing.reply.plain_text()
    await console.handle_line("/as bob fan")
    (deleted,) = await console.handle_line("/uncomment 2")
    assert deleted.reply.plain_text() == "Your comment 2 on #1 is deleted."
    await console.handle_line("/as mod admin")
    (refused,) = await console.handle_line("/uncomment 1")  # not the admin's own comment
    assert refused.reply.error and "/hidecomment" in refused.reply.plain_text()
    (hidden,) = await console.handle_line("/hidecomment 1")
    assert hidden.reply.plain_text() == "Comment 1 on #1 is hidden."
    (again,) = await console.handle_line("/hidecomment 1")
    assert again.reply.error
    (shown,) = await console.handle_line("/show 1")
    assert "Comments" not in shown.reply.plain_text()
    assert "spam" not in shown.reply.plain_text()


async def test_followers_are_told_once_and_a_busy_discussion_is_summed_up(
    console: ConsoleAdapter,
) -> None:
    await run(console, '/as alice fan\n/suggest "Dark mode" "Too bright at night"\n/as carol fan')
    # Voters opt in; others may not follow.
    (refused,) = await console.handle_line("/follow 1")
    assert refused.reply.error and "vote for it first" in refused.reply.plain_text()
    await console.handle_line("/vote 1")
    assert to(await console.handle_line("/follow 1"), "carol")[0].startswith("🔔")
    assert "already follow" in to(await console.handle_line("/follow 1"), "carol")[0]

    await console.handle_line("/as bob fan")
    first = await console.handle_line("/comment 1 first!")
    # The author follows by default, the voter who opted in too; told at once.
    assert to(first, "alice") == to(first, "carol")
    assert to(first, "alice") == [
        "💬 New comments on #1 Dark mode (1)\nbob: first!\n"
        "/show 1 to read them; /unfollow 1 to stop these messages"
    ]
    # A busy discussion: nothing more for ten minutes...
    for n in range(2, 7):
        later = await console.handle_line(f"/comment 1 reply {n}")
        assert to(later, "alice") == [] and to(later, "carol") == []
    # ...then one message for everything written meanwhile.
    summed = await console.handle_line("/advance 15m")
    (alice,) = to(summed, "alice")
    assert alice.startswith("💬 New comments on #1 Dark mode (5)\n… and 2 more\n")
    assert alice.endswith(
        "bob: reply 4\nbob: reply 5\nbob: reply 6\n"
        "/show 1 to read them; /unfollow 1 to stop these messages"
    )
    assert len(to(summed, "carol")) == 1
    assert to(await console.handle_line("/advance 15m"), "alice") == []  # nothing new

    # Unfollowing stops them; the commenter follows from their own comment on.
    await console.handle_line("/as alice fan")
    assert to(await console.handle_line("/unfollow 1"), "alice")[0].startswith("🔕")
    assert "do not follow" in to(await console.handle_line("/unfollow 1"), "alice")[0]
    reply = await console.handle_line("/comment 1 thanks everyone")
    assert to(reply, "alice") == ["💬 Comment 7 added to #1 Dark mode."]
    assert len(to(reply, "bob")) == 1 and len(to(reply, "carol")) == 1
    await console.handle_line("/as carol fan")
    await console.handle_line("/comment 1 me again")
    told = await console.handle_line("/advance 15m")
    assert to(told, "alice") == []  # unfollowed, though the author
    assert to(told, "bob") == [
        "💬 New comments on #1 Dark mode (1)\ncarol: me again\n"
        "/show 1 to read them; /unfollow 1 to stop these messages"
    ]
