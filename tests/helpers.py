"""Small helpers shared by tests: contexts for members on any platform."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import strategies as st

from bot.core.app import App
from bot.core.commands import Role
from bot.core.context import Context


async def member(
    app: App, name: str, role: Role = Role.FAN, *, platform: str = "console", space: str = "console"
) -> Context:
    return await app.context(
        platform=platform,
        space_id=space,
        space_name=space,
        user_id=name.casefold(),
        display_name=name,
        role=role,
    )


def artifacts_dir(kind: str) -> Path:
    """Where tests keep files for people to look at (screenshots): `tests/artifacts/<kind>`, or
    `$FANLOOP_TEST_ARTIFACTS/<kind>`; ignored by git."""
    base = os.environ.get("FANLOOP_TEST_ARTIFACTS") or Path(__file__).parent / "artifacts"
    return Path(base) / kind


def member_text(*, min_size: int = 0, max_size: int | None = None) -> st.SearchStrategy[str]:
    """Any text a member can get to a handler: the dispatcher drops NULs and replaces lone
    surrogates first (`bot.core.dispatch.storable`), so tests that call services directly
    draw from the same text."""
    chars = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
    return st.text(chars, min_size=min_size, max_size=max_size)
