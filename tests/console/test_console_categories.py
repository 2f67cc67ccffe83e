"""Categories end to end through the console: owners declare them, fans pick one when they
suggest, lists filter by one, admins move suggestions between them."""

from __future__ import annotations

from bot.adapters.console import ConsoleAdapter, OutEvent
from bot.core.reply import Reply
from cogs.suggestions.service import SuggestionService


def said(events: list[OutEvent]) -> str:
    return "\n".join(e.reply.plain_text() for e in events)


async def press(console: ConsoleAdapter, action: str) -> Reply:
    """Press a button of an earlier reply (the console's `!n` presses the last reply's)."""
    return await console.app.dispatcher.press(await console.context(), action)


async def run(console: ConsoleAdapter, script: str) -> list[OutEvent]:
    out: list[OutEvent] = []
    for line in script.strip().splitlines():
        out.extend(await console.handle_line(line.strip()))
    return out


async def test_owners_declare_fans_pick_lists_filter(console: ConsoleAdapter) -> None:
    await console.handle_line("/as olga owner")
    assert "Category “Maps” added (1 of at most 20)" in said(
        await console.handle_line("/category add Maps")
    )
    await run(console, "/category add 界面\n/category add Dark mode")
    listed = said(await console.handle_line("/category list"))
    assert "Categories (3)" in listed and "• Dark mode\n• Maps\n• 界面" in listed

    # A fan who gives no category is asked for one: the choices carry the draft.
    await console.handle_line("/as alice fan")
    asked = await console.handle_line('/suggest "Offline maps" "For the subway"')
    assert asked[0].to == "alice" and asked[0].reply.ephemeral
    assert "Which category is “Offline maps” in?" in said(asked)
    assert [label for label, _ in asked[0].actions] == ["Dark mode", "Maps", "界面", "No category"]
    assert all(action.startswith("sk:1:") for _, action in asked[0].actions)
    posted = await console.handle_line("!2")  # Maps
    assert posted[0].to == "channel"
    assert "#1 Offline maps" in said(posted) and "Category: Maps" in said(posted)
    again = await press(console, asked[0].actions[2][1])  # the choices again: posted once only
    assert again.error and "Already posted as #1." in again.plain_text()

    # Given with the command (any case), the step is skipped.
    posted = await console.handle_line('/suggest "Bigger map labels" category=maps')
    assert posted[0].to == "channel" and "Category: Maps" in said(posted)
    posted = await console.handle_line('/suggest "A calmer home screen" category=界面')
    assert "Category: 界面" in said(posted)
    unknown = said(await console.handle_line('/suggest "Something else" category=Sound'))
    assert "There is no category “Sound”. Categories: Dark mode, Maps, 界面." in unknown

    # "No category" posts without one.
    asked = await console.handle_line('/suggest "Export my votes" "as CSV"')
    posted = await console.handle_line(f"!{len(asked[0].actions)}")
    assert "#4 Export my votes" in said(posted) and "Category:" not in said(posted)

    top = said(await console.handle_line("/top category=MAPS"))
    assert "Top · Maps" in top or "· Maps" in top.splitlines()[0]
    assert "Offline maps" in top and "Bigger map labels" in top
    assert "calmer" not in top and "Export" not in top
    new = said(await console.handle_line("/new 界面"))
    assert "A calmer home screen" in new and "Offline maps" not in new
    assert "No open suggestions in this category yet." in said(
        await console.handle_line('/new category="dark mode"')
    )
    assert "No open suggestions in this category yet." in said(
        await console.handle_line("/new Dark  Mode")
    )
    found = said(await console.handle_line("/search maps category=Maps"))
    assert "Offline maps" in found and "calmer" not in found
    assert "There is no category “x”" in said(await console.handle_line("/top category=x"))
    shown = said(await console.handle_line("/show 1"))
    assert "Category: Maps" in shown


async def test_only_owners_add_and_remove_admins_move(console: ConsoleAdapter) -> None:
    await console.handle_line("/as alice fan")
    assert "This community has no categories." in said(await console.handle_line("/category list"))
    denied = said(await console.handle_line("/category add Maps"))
    assert "Maps" not in said(await console.handle_line("/category list"))
    await console.handle_line("/as adam admin")
    denied_admin = said(await console.handle_line("/category add Maps"))
    assert denied == denied_admin and "owner" in denied.lower()
    await console.handle_line("/as olga owner")
    await run(console, "/category add Maps\n/category add Sound")
    await console.handle_line("/as alice fan")
    await console.handle_line('/suggest "Offline maps" category=Maps')
    assert "owner" in said(await console.handle_line("/category remove Maps")).lower()
    assert "admin" in said(await console.handle_line("/category set 1 Sound")).lower()

    await console.handle_line("/as adam admin")
    moved = said(await console.handle_line("/category set 1 sound"))
    assert "#1: category Maps → Sound" in moved and "Category: Sound" in moved
    cleared = said(await console.handle_line("/category set 1 none"))
    assert "#1: category Sound → none" in cleared
    await console.handle_line("/category set 1 Maps")
    assert "owner" in said(await console.handle_line("/category remove Maps")).lower()

    # Removing a category leaves its suggestions without one.
    await console.handle_line("/as olga owner")
    removed = said(await console.handle_line("/category remove MAPS"))
    assert "Category “Maps” removed. Suggestions it left without a category: 1." in removed
    row = await console.app.services.get(SuggestionService).get(1, 1)
    assert row.category is None
    assert "There is no category “Maps”" in said(await console.handle_line("/top category=Maps"))


async def test_hostile_and_odd_names(console: ConsoleAdapter) -> None:
    await console.handle_line("/as olga owner")
    assert "There is a category “Maps” already." in said(
        await run(console, "/category add Maps\n/category add ＭＡＰＳ")
    )
    assert "already" in said(await console.handle_line("/category add  maps "))
    assert "already" in said(await console.handle_line("/category add Ma\u200bps"))
    assert "at most 30" in said(await console.handle_line("/category add " + "x" * 31))
    assert "means “no category”" in said(await console.handle_line("/category add None"))
    assert "means “no category”" in said(await console.handle_line("/category add 无"))
    assert "must not be empty" in said(await console.handle_line("/category add \u200b"))
    html = said(await console.handle_line("/category add <b>bold</b> & co"))
    assert "Category “<b>bold</b> & co” added" in html
    await console.handle_line("/advance 2m")  # past the rate limit of 20 commands a minute
    for n in range(18):
        await console.handle_line(f"/category add c{n}")
    await console.handle_line("/advance 2m")
    assert "at most 20 categories" in said(await console.handle_line("/category add one more"))
    # Forged or stale picks are refused with a message, not a crash.
    await console.handle_line("/as alice fan")
    for action in ("sk:999:1", "sk:1", "sk:x:y", "sk:-5:0", "sk:99999999999:0", "sk:1:999"):
        out = await press(console, action)
        assert out.error and "reference" not in out.plain_text().lower(), (action, out)


async def test_chinese_members_get_chinese(console: ConsoleAdapter) -> None:
    await console.handle_line("/as olga owner")
    await console.handle_line("/language zh")
    assert "已添加分类“地图”" in said(await console.handle_line("/category add 地图"))
    asked = await console.handle_line("/suggest 离线地图")
    assert "“离线地图”属于哪个分类？" in said(asked)
    assert [label for label, _ in asked[0].actions] == ["地图", "不分类"]
    assert "没有分类“声音”。现有分类：地图。" in said(
        await console.handle_line("/top category=声音")
    )
