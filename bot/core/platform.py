"""The contract between the core and a chat platform's adapter.

Each adapter package under `bot/adapters/` exposes one `Platform` as its module attribute
`ADAPTER`; `bot.platforms` imports the packages that the settings name and serves them side by
side. The core never names an adapter.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.core.app import App


class Platform(Protocol):
    """A chat platform fanloop can serve."""

    @property
    def name(self) -> str:
        """The platform's name, as members' identities and the settings spell it ("discord")."""
        ...

    async def serve(self, app: App, stop: asyncio.Event) -> None:
        """Connect, handle events and deliver the outbox until `stop` is set, then close."""
        ...
