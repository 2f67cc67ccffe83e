"""Categories on Discord: the owner declares them with /category, the /suggest form is followed
by a select of the community's categories, and /top filters by one (with autocomplete)."""

from __future__ import annotations

from bot.core.app import App
from cogs.suggestions.service import SuggestionService
from devtools.servers.discord_api import FakeDiscord
from tests.discord.conftest import Bot, buttons, is_ephemeral, text_of


async def test_suggest_form_then_a_category_select(bot: Bot, fake: FakeDiscord, app: App) -> None:
    alice = fake.add_member("Alice")
    answer = await bot.slash(alice, "category add", name="Maps")
    assert text_of(answer.message) == "This needs the owner role."
    for name in ("Maps", "界面"):
        answer = await bot.slash(fake.owner, "category add", name=name)
        assert f"Category “{name}” added" in text_of(answer.message)

    opened = await bot.slash(alice, "suggest")
    assert opened.modal is not None
    asked = (
        await bot.run(
            fake.submit(alice, opened.modal, {"title": "Offline maps", "details": "for hiking"})
        )
    ).message
    assert is_ephemeral(asked) and "Which category is “Offline maps” in?" in text_of(asked)
    (select,) = buttons(asked)
    assert select["type"] == 3 and select["placeholder"] == "Choose a category"
    options = [(o["label"], o["value"]) for o in select["options"]]
    assert options == [("Maps", "sk:1:1"), ("界面", "sk:1:2"), ("No category", "sk:1:0")]

    card = (await bot.run(fake.press(alice, asked, select["custom_id"], values=["sk:1:1"]))).message
    assert not is_ephemeral(card)
    assert "#1 Offline maps" in text_of(card) and "Maps" in text_of(card)
    assert [b["custom_id"] for b in buttons(card)] == ["sv:1"]
    again = await bot.run(fake.press(alice, asked, select["custom_id"], values=["sk:1:2"]))
    assert is_ephemeral(again.message) and "Already posted as #1." in text_of(again.message)
    cid, _ = await app.identity.community_for_space(
        "discord", "1100000000000000100", "", app.clock.now()
    )
    assert (await app.services.get(SuggestionService).get(cid, 1)).category == "Maps"

    # Someone else's pick on that message changes nothing.
    bob = fake.add_member("Bob")
    stolen = await bot.run(fake.press(bob, asked, select["custom_id"], values=["sk:1:2"]))
    assert is_ephemeral(stolen.message) and "That draft is gone" in text_of(stolen.message)

    top = await bot.slash(bob, "top", category="maps")
    assert "Offline maps" in text_of(top.message) and "Maps" in text_of(top.message)
    shown = await bot.slash(bob, "new", category="界面")
    assert "No open suggestions in this category yet." in text_of(shown.message)


async def test_category_options_autocomplete(bot: Bot, fake: FakeDiscord) -> None:
    for name in ("Maps", "Sound", "界面"):
        await bot.slash(fake.owner, "category add", name=name)
    alice = fake.add_member("Alice")
    answer = await bot.run(fake.autocomplete(alice, "top", "category", "so"))
    assert [c["value"] for c in answer.choices or []] == ["Sound"]
    answer = await bot.run(fake.autocomplete(alice, "category remove", "name", ""))
    assert [c["value"] for c in answer.choices or []] == ["Maps", "Sound", "界面"]
