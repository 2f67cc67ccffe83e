"""The suggestion form as a guided exchange in private chat; roles from the chat's admins."""

from __future__ import annotations

from datetime import timedelta

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from cogs.suggestions.service import SuggestionService
from tests.telegram.world import ADMIN, ALICE, CAROL, GROUP, OWNER, World


async def test_form_asks_each_field_and_keeps_answers_on_a_bad_value(
    world: World, app: App
) -> None:
    await world.say(CAROL, "/help")  # Carol's home group is now GROUP
    await world.dm(CAROL, "/suggest")
    assert world.last(CAROL["id"])["text"].startswith(
        "/suggest · step 1 of 2\n\nPlease send: a short title"
    )
    await world.dm(CAROL, "ab")
    asked = world.last(CAROL["id"])["text"]
    assert asked.startswith("/suggest · step 1 of 2")
    assert "title is too short: at least 3 characters." in asked
    await world.dm(CAROL, "Offline maps")
    step2 = world.last(CAROL["id"])["text"]
    assert step2.startswith("/suggest · step 2 of 2")  # the category is a step of its own
    assert "Optional: /skip leaves it out." in step2
    await world.dm(CAROL, "For the subway, where there is no signal")
    card = world.last(CAROL["id"])["text"]
    assert "#1 Offline maps" in card
    assert "For the subway, where there is no signal" in card
    # The new suggestion is shown in the group too, where everyone can vote and reply +1.
    assert "#1 Offline maps" in world.last(GROUP)["text"]
    row = await app.services.get(SuggestionService).get(1, 1)
    assert (row.title, row.details, row.category) == (
        "Offline maps",
        "For the subway, where there is no signal",
        None,
    )


async def test_form_can_be_cancelled_and_required_fields_cannot_be_skipped(
    world: World, app: App
) -> None:
    await world.say(CAROL, "/help")
    await world.dm(CAROL, "/suggest")
    await world.dm(CAROL, "/skip")
    assert "“a short title” can’t be left out." in world.last(CAROL["id"])["text"]
    await world.dm(CAROL, "/cancel")
    assert world.last(CAROL["id"])["text"] == "Cancelled. Nothing was sent."
    await world.dm(CAROL, "Some text after the form")
    assert world.last(CAROL["id"])["text"] == "Commands start with /. /help lists them."
    assert await app.services.get(SuggestionService).newest(1) == []


async def test_one_line_suggest_in_private_chat_skips_the_form(world: World) -> None:
    await world.say(CAROL, "/help")
    await world.dm(CAROL, '/suggest "Battery saver" "Please"')
    assert "#1 Battery saver" in world.last(CAROL["id"])["text"]


async def test_permission_matrix(world: World, app: App) -> None:
    """Every admin and owner command is refused to a fan; owner commands to an admin."""
    privileged = [s for s in app.commands.all() if s.role > Role.FAN]
    assert {s.name for s in privileged} >= {"merge", "status", "settings", "hide"}
    for who, role in ((CAROL, Role.FAN), (ADMIN, Role.ADMIN), (OWNER, Role.OWNER)):
        for spec in privileged:
            await world.say(who, f"/{spec.name}")
            text = world.texts(who["id"])[-1]  # a text, or a document's caption
            needed = f"This needs the {spec.role.name.lower()} role."
            assert (text == needed) == (role < spec.role), (who["first_name"], spec.name, text)


async def test_roles_are_looked_up_once_per_chat_and_refreshed(
    world: World, app: App, clock: FakeClock
) -> None:
    await world.say(ALICE, '/suggest "Dark mode"')
    await world.say(ADMIN, "/status 1 planned")
    await world.say(OWNER, "/settings")
    assert len(world.fake.calls_to("getChatAdministrators")) == 1
    assert "Planned" in world.last(GROUP)["text"]
    # Adam loses his admin rights; after the cache expires he is a fan again.
    world.fake.set_admins(GROUP, creator=OWNER["id"])
    clock.advance(timedelta(minutes=6))
    await world.say(ADMIN, "/status 1 in_progress")
    assert world.last(ADMIN["id"])["text"] == "This needs the admin role."
    assert len(world.fake.calls_to("getChatAdministrators")) == 2


async def test_admin_in_private_chat_keeps_group_role(world: World) -> None:
    await world.say(ALICE, '/suggest "Dark mode"')
    await world.say(ADMIN, "/help")
    await world.dm(ADMIN, "/hide 1")
    assert world.last(ADMIN["id"])["text"] == "#1 is hidden."


async def test_anonymous_admin_is_told_why_nothing_happens(world: World) -> None:
    update = {
        "update_id": 990001,
        "message": {
            "message_id": 77,
            "date": 0,
            "chat": world.chat,
            "from": {
                "id": 1087968824,
                "is_bot": True,
                "first_name": "Group",
                "username": "GroupAnonymousBot",
            },
            "sender_chat": world.chat,
            "text": "/settings",
            "entities": [{"type": "bot_command", "offset": 0, "length": 9}],
        },
    }
    await world.feed(update)
    assert "Remain anonymous" in world.last(GROUP)["text"]
