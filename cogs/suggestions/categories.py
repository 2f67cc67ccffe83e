"""Categories: the short list of topics a community's owners declare ("界面", "Maps", …), one of
which a suggestion may be in. Names are compared folded (case, full-width forms, spaces), so
"UI" and "ｕｉ" are one category; a suggestion keeps the name as the owner wrote it."""

from __future__ import annotations

import unicodedata

from bot.core.clock import Clock
from bot.core.errors import UserError
from storage.suggestions.categories import CategoryExists, CategoryRepo, CategoryRow
from storage.suggestions.posts import SuggestionRow

NAME_MAX = 30  # visible characters: a select option, a keyboard button, a card field
MAX_CATEGORIES = 20  # one Discord select (25 options) with room for "no category"
# Words that mean "no category" where a category is typed (/category set 12 none).
NONE_WORDS = frozenset({"none", "-", "无", "无分类", "未分类"})


def clean(name: str) -> str:
    """The name as kept: control and invisible characters dropped, spaces collapsed."""
    shown = "".join(
        " " if ch.isspace() else ch
        for ch in name
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs")
    )
    return " ".join(shown.split())


def fold(name: str) -> str:
    """The name as compared (the migration 0005_categories applies the same rule)."""
    return " ".join(unicodedata.normalize("NFKC", clean(name)).casefold().split())


class CategoryService:
    def __init__(self, repo: CategoryRepo, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock

    async def all(self, community_id: int) -> list[CategoryRow]:
        return await self.repo.all(community_id)

    async def get(self, community_id: int, category_id: int) -> CategoryRow:
        row = await self.repo.get(community_id, category_id)
        if row is None:
            raise UserError("category.gone")
        return row

    async def add(self, community_id: int, name: str) -> CategoryRow:
        name = clean(name)
        if not name or not fold(name):
            raise UserError("category.name.blank")
        if len(name) > NAME_MAX:
            raise UserError("category.name.long", max=NAME_MAX)
        if fold(name) in NONE_WORDS:
            raise UserError("category.name.reserved", name=name)
        try:
            row = await self.repo.add(
                community_id, name, fold(name), MAX_CATEGORIES, self.clock.now()
            )
        except CategoryExists:
            existing = await self.repo.find(community_id, fold(name))
            raise UserError("category.exists", name=existing.name if existing else name) from None
        if row is None:
            raise UserError("category.too_many", max=MAX_CATEGORIES)
        return row

    async def remove(self, community_id: int, name: str) -> tuple[CategoryRow, int]:
        """Remove a category; its suggestions are left without one. (it, how many)."""
        removed = await self.repo.remove(community_id, fold(name))
        if removed is None:
            raise await self._unknown(community_id, name)
        return removed

    async def resolve(self, community_id: int, name: str) -> str:
        """The declared name a member's typed category stands for."""
        found = await self.repo.find(community_id, fold(name))
        if found is None:
            raise await self._unknown(community_id, name)
        return found.name

    async def resolve_or_none(self, community_id: int, name: str) -> str | None:
        """As `resolve`, where "none" (无) means no category."""
        if fold(name) in NONE_WORDS:
            return None
        return await self.resolve(community_id, name)

    async def _unknown(self, community_id: int, name: str) -> UserError:
        names = [c.name for c in await self.repo.all(community_id)]
        if not names:
            return UserError("category.none_declared", name=clean(name))
        return UserError("category.unknown", name=clean(name), names=", ".join(names))

    async def choose_for_draft(
        self, community_id: int, draft_id: int, account_id: int, category_id: int
    ) -> bool:
        """The author picked a category (0: none) for their draft: False when there is no such
        draft of theirs not posted yet (the caller says which)."""
        name = (await self.get(community_id, category_id)).name if category_id else None
        return await self.repo.set_draft(community_id, draft_id, account_id, name)

    async def set_suggestion(
        self, community_id: int, sid: int, category: str | None, actor: int
    ) -> tuple[str | None, SuggestionRow]:
        return await self.repo.set_suggestion(community_id, sid, category, actor, self.clock.now())
