"""Every command of the registry runs as a slash command, with its options typed and checked."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.app import App
from bot.core.commands import CommandSpec, Param, ParamType, Role
from bot.core.context import Context
from bot.core.reply import Reply
from devtools.servers.discord_api import FakeDiscord
from storage.platform.messages import MessagesRepo
from tests.discord.conftest import (
    Bot,
    StartBot,
    buttons,
    eventually,
    is_ephemeral,
    sample,
    text_of,
)

UNEXPECTED = "Something went wrong on our side"


async def test_every_command_runs_with_its_options(bot: Bot, fake: FakeDiscord, app: App) -> None:
    alice = fake.add_member("Alice")
    seed = await bot.slash(alice, "vote", id="1")  # no suggestion yet: a clear error, no crash
    assert "no suggestion #1" in text_of(seed.message)
    await bot.run(
        fake.submit(
            alice,
            (await bot.slash(alice, "suggest")).modal or {},
            {"title": "Dark mode for the app", "details": "too bright at night"},
        )
    )
    checked = 0
    for spec in app.commands.all():
        if spec.form or spec.name in ("language",):
            continue
        options = {p.name: sample(p, alice) for p in spec.params}
        answer = await bot.slash(fake.owner, spec.name, **options)
        assert answer.ack_type in (4, 5), spec.name
        text = text_of(answer.message)
        assert UNEXPECTED not in text, f"/{spec.name} crashed: {text}"
        assert "must be" not in text and "Missing" not in text, f"/{spec.name}: {text}"
        checked += 1
    assert checked >= 15


async def test_choice_and_bool_options(bot: Bot, fake: FakeDiscord, app: App) -> None:
    alice = fake.add_member("Alice")
    answer = await bot.slash(alice, "notify", enabled=False)
    assert is_ephemeral(answer.message)
    ctx = await app.context(
        platform="discord",
        space_id="1100000000000000100",
        space_name="",
        user_id=alice["id"],
        display_name="Alice",
        role=Role.FAN,
    )
    assert (await app.identity.account(ctx.member.account_id)).notify is False
    answer = await bot.slash(alice, "language", language="zh_cn")
    assert text_of(answer.message) == "语言已设为：简体中文。"
    # Her own choice now wins over her Discord client's locale (en-US in these payloads).
    answer = await bot.slash(alice, "top", by="votes")
    assert text_of(answer.message) == "还没有需求，来 /suggest 第一个吧！"


async def test_values_are_checked_by_the_core(bot: Bot, fake: FakeDiscord) -> None:
    # Discord's client enforces the schema's limits, but discord.py does not re-check them.
    alice = fake.add_member("Alice")
    answer = await bot.slash(alice, "vote", id="0")
    assert is_ephemeral(answer.message)
    assert "at least 1" in text_of(answer.message)
    answer = await bot.slash(alice, "show", id="dark mode")
    assert "must be a whole number" in text_of(answer.message)
    answer = await bot.slash(alice, "vote", id="#12")
    assert "no suggestion #12" in text_of(answer.message)


async def test_zh_cn_members_get_chinese_replies(bot: Bot, fake: FakeDiscord) -> None:
    alice = fake.add_member("Alice")
    answer = await bot.slash(alice, "vote", id="3", _locale="zh-CN")
    assert "#3" in text_of(answer.message)
    assert "There is no" not in text_of(answer.message)


async def test_form_opens_a_modal_and_posts_a_card(bot: Bot, fake: FakeDiscord, app: App) -> None:
    alice = fake.add_member("Alice")
    opened = await bot.slash(alice, "suggest")
    assert opened.ack_type == 9 and opened.modal is not None
    inputs = [row["component"] for row in opened.modal["components"]]
    assert [(i["custom_id"], i.get("min_length"), i.get("max_length")) for i in inputs] == [
        ("title", 3, 120),
        ("details", None, 2000),
    ]  # the category is picked after the form, from the community's list
    assert [i["required"] for i in inputs] == [True, False]
    posted = await bot.run(
        fake.submit(alice, opened.modal, {"title": "Offline maps", "details": "for hiking"})
    )
    card = posted.message
    assert not is_ephemeral(card)
    assert "#1 Offline maps" in text_of(card) and "for hiking" in text_of(card)
    assert [b["custom_id"] for b in buttons(card)] == ["sv:1"]
    # The card is remembered, so a "+1" reply to it is a vote even after a restart.
    refs = MessagesRepo(app.engine)

    async def remembered() -> bool:
        return await refs.subject_of("discord", card["channel_id"], card["id"]) == "sg:1"

    await eventually(remembered)


async def test_form_errors_are_private(bot: Bot, fake: FakeDiscord) -> None:
    alice = fake.add_member("Alice")
    opened = await bot.slash(alice, "suggest")
    answer = await bot.run(fake.submit(alice, opened.modal or {}, {"title": "ab"}))
    assert is_ephemeral(answer.message)
    assert "too short" in text_of(answer.message)


async def _echo(ctx: Context, **values: Any) -> Reply:
    shown = ", ".join(f"{k}={v!r}" for k, v in sorted(values.items()))
    return Reply(text=shown, footer=",".join((ctx.extras or {}).get("roles", [])), ephemeral=True)


async def test_member_duration_and_datetime_options(
    app: App, fake: FakeDiscord, start_bot: StartBot
) -> None:
    app.commands.add(
        CommandSpec(
            "echo",
            "help.help",
            _echo,
            (
                Param("who", ParamType.MEMBER, "param.command"),
                Param("wait", ParamType.DURATION, "param.command"),
                Param("at", ParamType.DATETIME, "param.command"),
                Param("count", ParamType.INT, "param.command", required=False, min=1, max=9),
            ),
        )
    )
    await app.community_settings.set(
        (
            await app.identity.community_for_space(
                "discord", "1100000000000000100", "Fan Club", app.clock.now()
            )
        )[0],
        "timezone",
        "Asia/Shanghai",
    )
    bot = await start_bot()
    schema = next(c for c in fake.commands[None] if c["name"] == "echo")
    assert [(o["name"], o["type"]) for o in schema["options"]] == [
        ("who", 6),
        ("wait", 3),
        ("at", 3),
        ("count", 4),
    ]
    bob = fake.add_member("Bob")
    answer = await bot.slash(fake.owner, "echo", who=bob, wait="1h30m", at="2026-12-01 20:00")
    text = text_of(answer.message)
    assert "who='Bob'" in text
    assert f"wait={timedelta(hours=1, minutes=30)!r}" in text
    # A time without a zone is read in the community's time zone (Shanghai, UTC+8).
    assert f"at={datetime(2026, 12, 1, 12, 0, tzinfo=UTC)!r}" in text
    assert "count=None" in text
    # Bob now exists for fanloop under the name Discord shows.
    assert (
        await app.identity.find_by_name(
            (
                await app.identity.community_for_space(
                    "discord", "1100000000000000100", "", app.clock.now()
                )
            )[0],
            "Bob",
        )
        is not None
    )
    answer = await bot.slash(fake.owner, "echo", who=bob, wait="soon", at="2026-12-01 20:00")
    assert "must be a duration" in text_of(answer.message)


async def _broken(ctx: Context) -> Reply:
    return Reply(text=None)  # type: ignore[arg-type]  # a cog's bug: no text at all


async def test_a_reply_that_cannot_be_shown_becomes_an_error_with_a_reference(
    app: App, fake: FakeDiscord, start_bot: StartBot
) -> None:
    app.commands.add(CommandSpec("broken", "help.help", _broken))
    bot = await start_bot()
    answer = await bot.slash(fake.add_member("Alice"), "broken")
    assert is_ephemeral(answer.message)
    assert re.search(r"reference [0-9a-f]{8}", text_of(answer.message))
    assert (await bot.slash(fake.add_member("Bob"), "help")).ack_type == 4


async def test_an_outdated_client_gets_a_hint_not_silence(bot: Bot, fake: FakeDiscord) -> None:
    # A client still showing an older schema may leave out an option that is now required.
    answer = await bot.slash(fake.add_member("Alice"), "vote")
    assert is_ephemeral(answer.message)
    assert text_of(answer.message) == "This command has just been updated. Try again in a minute."


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def _chart(ctx: Context) -> Reply:
    return Reply(title="Four-grid report", image=PNG, image_name="report 2026-W48.png")


async def test_charts_are_sent_as_files(app: App, fake: FakeDiscord, start_bot: StartBot) -> None:
    app.commands.add(CommandSpec("chart", "help.help", _chart))
    bot = await start_bot()
    answer = await bot.slash(fake.add_member("Alice"), "chart")
    (call,) = [c for c in fake.calls if c.path.endswith("/callback") and c.files]
    assert call.files == {"files[0]": ("report_2026-W48.png", PNG)}
    embed = answer.message["embeds"][0]
    assert embed["image"]["url"] == "attachment://report_2026-W48.png"
    assert answer.message["attachments"][0]["filename"] == "report_2026-W48.png"
