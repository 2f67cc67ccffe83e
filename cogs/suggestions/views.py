"""How suggestions look in replies: one place, every adapter renders the same Reply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core.actions import make_action
from bot.core.context import Context
from bot.core.reply import Button, Field, Reply
from cogs.suggestions.status import is_open
from storage.suggestions.posts import SuggestionRow

Tr = Callable[..., str]


def subject(sid: int) -> str:
    return f"sg:{sid}"


def status_label(t: Tr, status: str) -> str:
    return t(f"status.{status}")


def vote_button(t: Tr, row: SuggestionRow) -> Button:
    return Button(
        t("suggest.button.vote", id=row.id, votes=row.votes), make_action("sv", row.id), "primary"
    )


def line(t: Tr, row: SuggestionRow, extra: str = "") -> str:
    tail = f" · {extra}" if extra else ""
    return (
        t(
            "suggest.line",
            id=row.id,
            title=row.title,
            votes=row.votes,
            status=status_label(t, row.status),
        )
        + tail
    )


def card(
    ctx: Context, row: SuggestionRow, *, author: str | None = None, heading: str = ""
) -> Reply:
    """A suggestion as a message fans can vote on (and reply "+1" to)."""
    t = ctx.t
    fields = [
        Field(t("suggest.field.status"), status_label(t, row.status), inline=True),
        Field(t("suggest.field.votes"), str(row.votes), inline=True),
    ]
    if row.category:
        fields.append(Field(t("suggest.field.category"), row.category, inline=True))
    if author:
        fields.append(Field(t("suggest.field.author"), author, inline=True))
    if row.status_note:
        fields.append(Field(t("suggest.field.note"), row.status_note))
    if row.response:
        fields.append(Field(t("suggest.field.response"), row.response))
    if row.merged_into:
        fields.append(Field(t("suggest.field.merged"), f"#{row.merged_into}"))
    buttons = [vote_button(t, row)] if is_open(row.status) else []
    return Reply(
        title=(heading + "\n" if heading else "") + f"#{row.id} {row.title}",
        text=row.details,
        fields=fields,
        buttons=buttons,
        subject=subject(row.id),
        web_path="" if row.hidden else f"/s/{row.id}",
        footer="\n".join(
            part
            for part in (
                t("suggest.footer.reply_to_vote") if buttons else "",
                t("suggest.footer.edited") if row.edited_at else "",
                t("suggest.posted_anonymous") if row.anonymous else "",
            )
            if part
        ),
    )


def listing(
    ctx: Context,
    title: str,
    rows: list[SuggestionRow],
    empty_key: str,
    extras: dict[int, str] | None = None,
) -> Reply:
    t = ctx.t
    if not rows:
        return Reply(text=t(empty_key), ephemeral=True)
    extras = extras or {}
    text = "\n".join(line(t, r, extras.get(r.id, "")) for r in rows)
    buttons = [vote_button(t, r) for r in rows[:5] if is_open(r.status) and not r.hidden]
    return Reply(title=title, text=text, buttons=buttons)


def render_notice(translate: Callable[..., str], key: str, **params: Any) -> Callable[[str], Reply]:
    """A notification, rendered later in each recipient's language."""

    def render(locale: str) -> Reply:
        status = params.get("status")
        extra = {"status_label": translate(locale, f"status.{status}")} if status else {}
        return Reply(text=translate(locale, key, **params, **extra))

    return render
