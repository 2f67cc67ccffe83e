"""`/export suggestions` and `/export votes`: an owner's CSV files of the community's suggestions
and votes (UTF-8 with a byte-order mark, as every fanloop export), sent as a file."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.commands import CommandSpec, Role
from bot.core.context import Context
from bot.core.csv_files import csv_bytes
from bot.core.feature import FeatureSetup
from bot.core.reply import Reply
from cogs.suggestions.commands import svc
from storage.suggestions.export import suggestion_rows, vote_rows

SUGGESTIONS_HEADER = (
    "id",
    "title",
    "details",
    "category",
    "status",
    "status_note",
    "votes",
    "merged_into",
    "hidden",
    "author_id",
    "author",
    "created_at",
    "updated_at",
)
VOTES_HEADER = ("suggestion_id", "account_id", "voter", "voted_at", "carried_by_merge")
NAMES_CHUNK = 5_000


def _text(value: str | None) -> str:
    return value or ""  # csv_bytes keeps a formula-like text as text


def _time(value: datetime) -> str:
    return value.isoformat()


async def _names(ctx: Context, account_ids: Sequence[int]) -> dict[int, str]:
    ids = list(dict.fromkeys(account_ids))
    names: dict[int, str] = {}
    for start in range(0, len(ids), NAMES_CHUNK):
        names |= await ctx.identity.display_names(ids[start : start + NAMES_CHUNK])
    return names


def _file_name(ctx: Context, what: str) -> str:
    return f"{what}-{ctx.community.id}-{ctx.now():%Y%m%d-%H%M}.csv"


async def export_suggestions(ctx: Context) -> Reply:
    rows = await suggestion_rows(svc(ctx).repo.engine, ctx.community.id)
    names = await _names(ctx, [r.author_id for r in rows])
    data = csv_bytes(
        SUGGESTIONS_HEADER,
        (
            (
                r.id,
                _text(r.title),
                _text(r.details),
                _text(r.category),
                r.status,
                _text(r.status_note),
                r.votes,
                r.merged_into or "",
                int(r.hidden),
                r.author_id,
                _text(names.get(r.author_id, "")),
                _time(r.created_at),
                _time(r.updated_at),
            )
            for r in rows
        ),
    )
    return Reply(
        text=ctx.t("export.done", what=ctx.t("export.what.suggestions"), count=len(rows)),
        file=data,
        file_name=_file_name(ctx, "suggestions"),
        ephemeral=True,
    )


async def export_votes(ctx: Context) -> Reply:
    rows = await vote_rows(svc(ctx).repo.engine, ctx.community.id)
    names = await _names(ctx, [r.account_id for r in rows])
    data = csv_bytes(
        VOTES_HEADER,
        (
            (
                r.suggestion_id,
                r.account_id,
                _text(names.get(r.account_id, "")),
                _time(r.created_at),
                int(r.merge_id is not None),
            )
            for r in rows
        ),
    )
    return Reply(
        text=ctx.t("export.done", what=ctx.t("export.what.votes"), count=len(rows)),
        file=data,
        file_name=_file_name(ctx, "votes"),
        ephemeral=True,
    )


def register(feature: FeatureSetup) -> None:
    c = feature.commands.add
    c(
        CommandSpec(
            "export suggestions", "help.export_suggestions", export_suggestions, role=Role.OWNER
        )
    )
    c(CommandSpec("export votes", "help.export_votes", export_votes, role=Role.OWNER))
