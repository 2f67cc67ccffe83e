"""Test support: a contribution source standing in for the cogs other engineers build (the weekly
report's "report" and drops' "reservation"), and short ways to act and to read points."""

from __future__ import annotations

from datetime import datetime

from bot.adapters.console import ConsoleAdapter, OutEvent
from bot.core.app import App
from bot.core.participation import Contribution
from cogs.participation.service import ParticipationService


class ListSource:
    """Contributions kept in a list, reported like a cog reports the rows of its tables."""

    def __init__(self, community_id: int | None = None) -> None:
        self.community_id = community_id
        self.items: list[Contribution] = []
        self.fail = False

    def add(self, account_id: int, kind: str, at: datetime, ref: str) -> None:
        self.items.append(Contribution(account_id, kind, at, ref))

    def remove(self, account_id: int, kind: str, ref: str) -> None:
        self.items = [
            c for c in self.items if (c.account_id, c.kind, c.ref) != (account_id, kind, ref)
        ]

    async def __call__(self, community_id: int, since: datetime | None) -> list[Contribution]:
        if self.fail:
            raise RuntimeError("source unavailable")
        if self.community_id is not None and community_id != self.community_id:
            return []
        return [c for c in self.items if since is None or c.at >= since]


def service(app: App) -> ParticipationService:
    return app.services.get(ParticipationService)


async def totals(app: App, community_id: int) -> dict[int, int]:
    return {t.account_id: t.points for t in await service(app).ledger.totals(community_id)}


async def run(console: ConsoleAdapter, script: str) -> list[OutEvent]:
    out: list[OutEvent] = []
    for line in script.strip().splitlines():
        out.extend(await console.handle_line(line.strip()))
    return out


def said(events: list[OutEvent], to: str | None = None) -> str:
    return "\n".join(e.reply.plain_text() for e in events if to is None or e.to == to)


class CountingSource(ListSource):
    def __init__(self, community_id: int | None = None) -> None:
        super().__init__(community_id)
        self.calls = 0

    async def __call__(self, community_id: int, since: datetime | None) -> list[Contribution]:
        self.calls += 1
        return await super().__call__(community_id, since)


async def suggest(console: ConsoleAdapter, title: str, details: str) -> str:
    """Post a suggestion as the current member; when similar ones are shown first, post it
    anyway. Returns what the channel was shown."""
    out = await console.handle_line(f'/suggest "{title}" "{details}"')
    if out and out[0].to != "channel":
        actions = enumerate(out[0].actions, 1)
        anyway = [n for n, (_label, action) in actions if action.startswith("sp:")]
        if anyway:
            out = await console.handle_line(f"!{anyway[0]}")
    return said(out, "channel")
