"""Categories on Telegram: the owner declares them in the group; the suggestion form in private
ends with an inline keyboard of the community's categories; lists filter by one."""

from __future__ import annotations

from bot.core.app import App
from cogs.suggestions.service import SuggestionService
from tests.telegram.world import BOB, CAROL, GROUP, OWNER, World


def keyboard(message: dict) -> list[tuple[str, str]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


async def test_form_ends_with_a_category_keyboard(world: World, app: App) -> None:
    await world.say(CAROL, "/category add Maps")
    assert world.last(CAROL["id"])["text"] == "This needs the owner role."
    await world.say(OWNER, "/category add Maps")
    await world.say(OWNER, "/category add 界面")
    assert "Category “界面” added (2 of at most 20)" in world.last(GROUP)["text"]

    await world.dm(CAROL, "/suggest")
    await world.dm(CAROL, "Offline maps")
    await world.dm(CAROL, "For the subway")
    asked = world.last(CAROL["id"])
    assert "Which category is “Offline maps” in?" in asked["text"]
    assert keyboard(asked) == [("Maps", "sk:1:1"), ("界面", "sk:1:2"), ("No category", "sk:1:0")]
    assert await app.services.get(SuggestionService).newest(1) == []  # nothing posted yet

    qid = await world.press(CAROL, asked, "sk:1:1")
    assert world.answer(qid)["callback_query_id"] == qid
    assert "#1 Offline maps" in world.last(GROUP)["text"]
    assert "Maps" in world.last(GROUP)["text"]
    row = await app.services.get(SuggestionService).get(1, 1)
    assert (row.title, row.details, row.category) == ("Offline maps", "For the subway", "Maps")

    qid = await world.press(CAROL, asked, "sk:1:2")  # a second press posts nothing more
    assert world.answer(qid)["show_alert"] == "true"
    assert len(await app.services.get(SuggestionService).newest(1)) == 1

    # In the group, typed with the command; Bob reads Chinese.
    await world.say(BOB, '/suggest "更清楚的界面" category=界面')
    assert "分类" in world.last(GROUP)["text"] and "界面" in world.last(GROUP)["text"]
    await world.say(BOB, "/top category=maps")
    top = world.last(GROUP)["text"]
    assert "Offline maps" in top and "更清楚的界面" not in top
