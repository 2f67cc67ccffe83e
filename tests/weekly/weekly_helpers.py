"""Helpers for the weekly loop's tests: members, suggestions, a recorded release."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select

from bot.core.app import App
from bot.core.commands import Role
from bot.core.context import Context
from bot.core.reply import Reply
from cogs.suggestions.service import SuggestionService
from cogs.weekly.flows import WeeklyFlows
from cogs.weekly.service import WeeklyService
from storage.core.schema import outbox as table
from storage.weekly.releases import ReleaseRow
from storage.weekly.reports import ReportRow


async def member(app: App, name: str, role: Role = Role.FAN, *, space: str = "console") -> Context:
    return await app.context(
        platform="console",
        space_id=space,
        space_name=space,
        user_id=name.casefold(),
        display_name=name,
        role=role,
    )


def weekly(app: App) -> WeeklyService:
    return app.services.get(WeeklyService)


def flows(app: App) -> WeeklyFlows:
    return app.services.get(WeeklyFlows)


async def suggestion(app: App, author: Context, title: str) -> int:
    sub = await app.services.get(SuggestionService).submit(
        author.community.id, author.member.account_id, title, "", None, force=True
    )
    assert sub.posted is not None
    return sub.posted.id


async def release(app: App, admin: Context, version: str, items: list[int | str]) -> ReleaseRow:
    row = await weekly(app).record_release(
        admin.community.id, version, date(2026, 11, 20), items, admin.member.account_id
    )
    await flows(app).finish_release(row, admin.member.account_id)
    return row


async def open_report(app: App, row: ReleaseRow, admin: Context) -> ReportRow:
    return await flows(app).open_report(row, admin.member.account_id)


@dataclass(frozen=True)
class Queued:
    kind: str
    account_id: int | None
    dedup_key: str | None
    reply: Reply


async def outbox(app: App) -> list[Queued]:
    """Everything queued in the outbox (delivered or not), oldest first."""
    async with app.engine.connect() as conn:
        rows = await conn.execute(select(table).order_by(table.c.id))
        return [Queued(r.kind, r.account_id, r.dedup_key, Reply.from_dict(r.payload)) for r in rows]


def utc_dt(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
