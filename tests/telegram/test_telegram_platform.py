"""Command menus per language, group commands, photos, polling and webhook end to end."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from bot.adapters.telegram import webhook
from bot.adapters.telegram.answers import AnswerSlot
from bot.adapters.telegram.api import answer_params
from bot.adapters.telegram.inbox import Inbox
from bot.adapters.telegram.lifecycle import run, webhook_secret
from bot.core.app import App
from bot.core.commands import CommandSpec, Param, ParamType, Role
from bot.core.context import Context
from bot.core.reply import Reply
from config.settings import FanloopSettings
from devtools.servers.telegram_api import FakeTelegram, callback_update, message_update
from storage.platform.messages import MessagesRepo
from storage.platform.telegram_inbox import TelegramInboxRepo
from tests.telegram.world import ALICE, BOB, GROUP, TOKEN, FakeMonotonic, World, make_adapter

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def chart(ctx: Context, kind: str) -> Reply:
    return Reply(title=f"Chart <{kind}>", text="Loved: 12", image=PNG, image_name="grid.png")


async def make(ctx: Context, what: str) -> Reply:
    return Reply(text=f"made {what}")


def add_demo_commands(app: App) -> None:
    app.commands.add(CommandSpec("demo-chart", "help.help", chart, (Param("kind"),)))
    app.commands.add(CommandSpec("demo make", "help.help", make, (Param("what", ParamType.TEXT),)))
    app.commands.add(CommandSpec("demo wipe", "help.help", make, (Param("what"),), role=Role.OWNER))


async def test_menus_per_language_and_role(app: App, fake: FakeTelegram) -> None:
    add_demo_commands(app)
    adapter = make_adapter(app, fake, FakeMonotonic())
    async with adapter.application:
        await adapter.menu.publish(adapter.bot)
    fan_en = {c["command"]: c["description"] for c in fake.commands[("default", "")]}
    fan_zh = {c["command"]: c["description"] for c in fake.commands[("default", "zh")]}
    admin_en = {c["command"] for c in fake.commands[("all_chat_administrators", "")]}
    assert fan_en["suggest"] == app.translator("en", "help.suggest")
    assert re.search(r"[\u4e00-\u9fff]", fan_zh["suggest"])
    assert fan_en["demo"] == "make"  # a command group is one entry; its owner-only part hidden
    assert fan_en["demo_chart"]  # Telegram names are [a-z0-9_]
    assert {"merge", "status", "settings"} <= admin_en
    assert not {"merge", "status", "settings"} & set(fan_en)
    assert "community" in admin_en  # "/community code"
    assert all(re.fullmatch(r"[a-z0-9_]{1,32}", name) for name in admin_en)


async def test_the_menu_is_published_once_per_version_across_processes(
    app: App, fake: FakeTelegram
) -> None:
    """Two processes (adapters) on one database start: the first sets the four menus, the
    second finds them up to date; a release whose commands differ sets them again; a publish
    that fails is tried again by the next start."""
    repo = MessagesRepo(app.engine)

    async def start() -> bool:
        adapter = make_adapter(app, fake, FakeMonotonic())
        async with adapter.application:
            return await adapter.menu.publish_once(adapter.bot, repo, app.clock.now())

    assert await start() is True
    assert len(fake.calls_to("setMyCommands")) == 4
    assert await start() is False
    assert len(fake.calls_to("setMyCommands")) == 4

    add_demo_commands(app)  # the next release's commands
    broken = make_adapter(app, fake, FakeMonotonic())

    async def refused(bot: object) -> None:
        raise RuntimeError("Telegram refused")

    broken.menu.publish = refused  # type: ignore[method-assign,assignment]
    async with broken.application:
        with pytest.raises(RuntimeError):
            await broken.menu.publish_once(broken.bot, repo, app.clock.now())
    assert await start() is True
    assert len(fake.calls_to("setMyCommands")) == 8
    assert "demo" in {c["command"] for c in fake.commands[("default", "")]}


async def test_group_commands_and_photos(app: App, fake: FakeTelegram) -> None:
    add_demo_commands(app)
    world = World(fake, make_adapter(app, fake, FakeMonotonic()), app, FakeMonotonic())
    async with world.adapter.application:
        await world.say(ALICE, "/demo make tea")
        assert world.last(GROUP)["text"] == "made tea"
        await world.say(ALICE, "/demo")
        assert world.last(ALICE["id"])["text"] == "/demo needs one of: make, wipe."
        await world.say(ALICE, "/demo_chart weekly")
        photo = world.last(GROUP)
        assert photo["caption"] == "Chart <weekly>\n\nLoved: 12"
        (call,) = fake.calls_to("sendPhoto")
        assert call.params["photo"]["size"] == len(PNG)
        assert call.params["caption"].startswith("<b>Chart &lt;weekly&gt;</b>")


async def test_files_go_out_as_documents(app: App, fake: FakeTelegram) -> None:
    csv = "name,votes\n夜间模式,3\n".encode("utf-8-sig")

    async def export(ctx: Context) -> Reply:
        return Reply(text="Export <all>", file=csv, file_name="report.csv")

    app.commands.add(CommandSpec("demo-export", "help.help", export))
    world = World(fake, make_adapter(app, fake, FakeMonotonic()), app, FakeMonotonic())
    async with world.adapter.application:
        await world.say(ALICE, "/demo_export")
    (call,) = fake.calls_to("sendDocument")
    assert call.params["document"] == {"file_name": "report.csv", "size": len(csv)}
    assert world.last(GROUP)["document"]["file_name"] == "report.csv"
    (text,) = [c for c in fake.calls_to("sendMessage") if "Export" in c.params["text"]]
    assert "Export &lt;all&gt;" in text.params["text"]


async def test_group_upgraded_to_supergroup_keeps_its_community(world: World, app: App) -> None:
    await world.say(ALICE, '/suggest "Dark mode"')
    card = world.last(GROUP)
    new_id = -1009999
    await world.feed(
        {
            "update_id": 880001,
            "message": {
                "message_id": 500,
                "date": 0,
                "chat": world.chat,
                "from": ALICE,
                "migrate_to_chat_id": new_id,
            },
        }
    )
    moved = {"id": new_id, "type": "supergroup", "title": "Fans of Orange"}
    await world.say(BOB, "/top", chat=moved)
    assert "#1 Dark mode" in world.last(new_id)["text"]
    assert [s.space_id for s in await app.identity.spaces_of(1)] == [str(new_id)]
    card = {**card, "chat": moved}
    await world.say(BOB, "+1", reply_to=card, chat=moved)
    assert world.last(BOB["id"])["text"] == "👍 已为 #1 Dark mode 投票，现在 2 票。"


async def test_long_polling_end_to_end(app: App, fake: FakeTelegram, tmp_path) -> None:
    settings = FanloopSettings(
        data_dir=tmp_path, telegram_token=TOKEN, telegram_base_url=fake.base_url
    )
    adapter = make_adapter(app, fake, FakeMonotonic())
    stop = asyncio.Event()
    task = asyncio.create_task(run(adapter, settings, stop, poll_timeout=1))
    try:
        await fake.push_update(
            message_update(
                {"id": GROUP, "type": "supergroup", "title": "Fans"}, ALICE, '/suggest "Dark mode"'
            )
        )
        await fake.wait_for("sendMessage")
        card = fake.sent(GROUP)[-1]
        press = callback_update(BOB, card, "sv:1")
        await fake.push_updates([press, press])  # delivered twice
        await fake.wait_for("answerCallbackQuery")
        await fake.push_update(message_update(card["chat"], ALICE, "/top@fanloop_bot"))
        await fake.wait_for("sendMessage", 2)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    methods = [c.method for c in fake.calls]
    assert methods[:2] == ["getMe", "setMyCommands"]
    assert "deleteWebhook" in methods
    assert len(fake.calls_to("answerCallbackQuery")) == 1
    assert fake.calls_to("answerCallbackQuery")[0].params["text"] == (
        "👍 已为 #1 Dark mode 投票，现在 2 票。"
    )
    line = app.translator(
        "en",
        "suggest.line",
        id=1,
        title="Dark mode",
        votes=2,
        status=app.translator("en", "status.new"),
    )
    assert line in fake.sent(GROUP)[-1]["text"]


async def test_webhook_mode(app: App, fake: FakeTelegram, tmp_path, unused_tcp_port: int) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}/tg-hook"
    settings = FanloopSettings(
        data_dir=tmp_path,
        telegram_token=TOKEN,
        telegram_base_url=fake.base_url,
        telegram_webhook_url=url,
        telegram_webhook_port=unused_tcp_port,
    )
    adapter = make_adapter(app, fake, FakeMonotonic())
    stop = asyncio.Event()
    task = asyncio.create_task(run(adapter, settings, stop))
    try:
        await fake.wait_for("setWebhook")
        assert fake.webhook is not None and fake.webhook["url"] == url
        update = message_update(
            {"id": GROUP, "type": "supergroup", "title": "Fans"}, ALICE, '/suggest "Dark mode"'
        )
        async with httpx.AsyncClient() as client:
            refused = await client.post(url, json=update)
            assert refused.status_code == 403  # no secret: not from Telegram
            ok = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": webhook_secret(TOKEN)}
            )
            assert ok.status_code == 200
        await fake.wait_for("sendMessage")
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert "#1 Dark mode" in fake.sent(GROUP)[-1]["text"]


async def test_webhook_answers_a_press_in_its_http_response(
    app: App, fake: FakeTelegram, tmp_path, unused_tcp_port: int
) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}/tg-hook"
    settings = FanloopSettings(
        data_dir=tmp_path,
        telegram_token=TOKEN,
        telegram_base_url=fake.base_url,
        telegram_webhook_url=url,
        telegram_webhook_port=unused_tcp_port,
    )
    adapter = make_adapter(app, fake, FakeMonotonic())
    stop = asyncio.Event()
    task = asyncio.create_task(run(adapter, settings, stop))
    try:
        await fake.wait_for("setWebhook")
        chat = {"id": GROUP, "type": "supergroup", "title": "Fans"}
        await fake.push_update(message_update(chat, ALICE, '/suggest "Dark mode"'))
        await fake.wait_for("sendMessage")
        press = callback_update(BOB, fake.sent(GROUP)[-1], "sv:1")
        await fake.push_updates([press, press])  # Telegram sends it twice
        await fake.wait_answered({press["callback_query"]["id"]})
        await fake.wait_for("editMessageReplyMarkup")  # the count on the button
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    (answer,) = fake.calls_to("answerCallbackQuery")  # once, and not as a request of its own:
    assert fake.in_response == [("answerCallbackQuery", answer.params)]
    assert answer.params["text"] == "👍 已为 #1 Dark mode 投票，现在 2 票。"


@pytest.mark.parametrize("answer_in_time", [True, False])
async def test_a_webhook_answer_is_out_in_the_response_or_handed_back(
    app: App, unused_tcp_port: int, monkeypatch: pytest.MonkeyPatch, answer_in_time: bool
) -> None:
    """The adapter hands a press's answer to its waiting webhook request and learns whether it
    went out in the response (then the update may be marked handled) or not (then the adapter
    sends it itself). An answer handed over in the very step the request stops waiting still
    goes out in the response; one handed over after it is refused (and sent by the adapter),
    never dropped."""
    monkeypatch.setattr(webhook, "IN_RESPONSE_WAIT", 0.0)  # the wait ends at the next step
    slots: dict[str, AnswerSlot] = {}
    handed: list[bool] = []
    outs: list[bool] = []
    tried = asyncio.Event()

    def answer(query_id: str, slot: AnswerSlot) -> None:
        handed.append(slot.hand_over(answer_params(query_id, "Done")))
        tried.set()
        slot.out.add_done_callback(lambda out: outs.append(out.result()))

    def dispatch(raw: dict[str, object]) -> None:
        query_id = str(raw["callback_query"]["id"])  # type: ignore[index]
        slot = slots[query_id]
        loop = asyncio.get_running_loop()
        if answer_in_time:
            loop.call_soon(answer, query_id, slot)  # just as the request stops waiting
        else:
            loop.call_later(0.05, answer, query_id, slot)  # once it stopped

    server = webhook.WebhookServer(
        Inbox(TelegramInboxRepo(app.engine), app.clock), dispatch, slots, path="/hook", secret="s"
    )
    await server.start("127.0.0.1", unused_tcp_port)
    press = callback_update(BOB, {"message_id": 1, "date": 1, "chat": {"id": GROUP}}, "x:1")
    try:
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"http://127.0.0.1:{unused_tcp_port}/hook",
                json=press,
                headers={webhook.SECRET_HEADER: "s"},
            )
        assert response.status_code == 200
        await asyncio.wait_for(tried.wait(), 10)
    finally:
        await server.stop()
    query_id = str(press["callback_query"]["id"])
    if answer_in_time:
        assert response.json() == {
            "method": "answerCallbackQuery",
            "callback_query_id": query_id,
            "text": "Done",
        }
        assert handed == [True] and outs == [True]
    else:
        assert response.content == b""
        assert handed == [False] and outs == [False]  # the adapter sends it as a request
    assert slots == {}
