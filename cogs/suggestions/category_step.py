"""The category step of /suggest: a category typed with the command is checked against the
community's list; without one, a community that has categories is asked to pick one (a select on
Discord, a keyboard on Telegram, numbered choices on the console) before the suggestion goes on.

The submission waits as a draft; each choice's action carries the draft and the category
(`sk:<draft>:<category>`, 0 for none), so a pick works after a restart and posts at most once.
"""

from __future__ import annotations

from bot.core.actions import make_action
from bot.core.commands import Choice
from bot.core.context import Context
from bot.core.reply import Reply, Select, SelectOption
from cogs.suggestions.categories import CategoryService, fold
from cogs.suggestions.service import SuggestionService

PICK = "sk"


def categories(ctx: Context) -> CategoryService:
    return ctx.service(CategoryService)


async def category_choices(ctx: Context, current: str) -> list[Choice]:
    """The community's categories that match what is typed (every one when nothing is)."""
    typed = fold(current)
    rows = await categories(ctx).all(ctx.community.id)
    return [Choice(r.name, r.name) for r in rows if typed in fold(r.name)][:25]


async def before_posting(
    ctx: Context, title: str, details: str, category: str | None
) -> tuple[str | None, Reply | None]:
    """(the declared name of the category given, None) to go on at once, or (None, the step
    asking for one) when none was given and the community has categories."""
    cid = ctx.community.id
    if category is not None:
        return await categories(ctx).resolve_or_none(cid, category), None
    rows = await categories(ctx).all(cid)
    if not rows:
        return None, None
    draft_id = await ctx.service(SuggestionService).hold(cid, ctx.member.account_id, title, details)
    t = ctx.t
    options = [SelectOption(r.name, make_action(PICK, draft_id, r.id)) for r in rows]
    options.append(SelectOption(t("category.pick.none"), make_action(PICK, draft_id, 0)))
    return None, Reply(
        title=t("category.pick.title", title=title.strip()),
        text=t("category.pick.text"),
        select=Select(t("category.pick.placeholder"), tuple(options)),
        ephemeral=True,
    )
