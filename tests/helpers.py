"""Small helpers shared by tests: contexts for members on any platform."""

from __future__ import annotations

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
