"""How the review queue and the audit log look."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.actions import make_action
from bot.core.clock import local_time
from bot.core.reply import Button, Reply
from storage.core.audit import AuditEntry
from storage.moderation.queue import QueueItem

Tr = Callable[..., str]
PAGE = 5
PREVIEW = 160


def _short(text: str, size: int = PREVIEW) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


def held_for(t: Tr, item: QueueItem) -> str:
    if item.held_for.startswith("word:"):
        return t("review.held_for.word", word=item.held_for[5:])
    return t("review.held_for.review")


def queue_page(
    t: Tr,
    items: list[QueueItem],
    total: int,
    offset: int,
    names: dict[int, str],
    titles: dict[int, str],
) -> Reply:
    if not items:
        return Reply(text=t("review.empty"), ephemeral=True)
    lines: list[str] = []
    buttons: list[Button] = []
    for item in items:
        who = names.get(item.author_id, "?")
        if item.kind == "post":
            lines.append(t("review.item.post", id=item.id, who=who, title=item.title))
            lines.append("   " + held_for(t, item))
            if item.details:
                lines.append("   " + _short(item.details))
            buttons.append(
                Button(
                    t("review.button.approve", id=item.id),
                    make_action("rv", "a", item.id),
                    "success",
                )
            )
            buttons.append(
                Button(t("review.button.reject", id=item.id), make_action("rr", item.id), "danger")
            )
        else:
            sid = item.suggestion_id or 0
            lines.append(
                t(
                    "review.item.report",
                    id=item.id,
                    who=who,
                    sid=sid,
                    title=titles.get(sid, "?"),
                )
            )
            lines.append("   " + t("review.report_reason", reason=_short(item.note)))
            buttons.append(
                Button(
                    t("review.button.hide", id=item.id, sid=sid),
                    make_action("rv", "h", item.id),
                    "danger",
                )
            )
            buttons.append(
                Button(t("review.button.dismiss", id=item.id), make_action("rv", "d", item.id))
            )
    if offset + len(items) < total:
        buttons.append(Button(t("moderation.next"), make_action("rq", offset + len(items))))
    return Reply(
        title=t("review.title", count=total),
        text="\n".join(lines),
        buttons=buttons,
        footer=t("review.footer"),
        ephemeral=True,
    )


def _value(value: Any) -> str:
    text = str(value)
    return f'"{text}"' if (" " in text or not text) else text


def audit_what(t: Tr, has: Callable[[str], bool], entry: AuditEntry) -> str:
    if entry.kind == "button":
        key = f"audit.button.{entry.name}"
        label = t(key) if has(key) else entry.name
        action = dict(entry.args).get("action", "")
        return t("audit.pressed", button=label, action=str(action))
    args = " ".join(f"{k}={_value(v)}" for k, v in entry.args)
    return f"/{entry.name} {args}".rstrip()


def audit_page(
    t: Tr,
    has: Callable[[str], bool],
    entries: list[AuditEntry],
    names: dict[int, str],
    tz: ZoneInfo,
    more: Button | None,
    member: str | None,
) -> Reply:
    if not entries:
        return Reply(text=t("audit.empty"), ephemeral=True)
    lines = []
    for e in entries:
        line = t(
            "audit.line",
            when=local_time(e.created_at, tz),
            who=e.actor_name,
            role=t(f"role.{e.role}"),
            what=audit_what(t, has, e),
        )
        if e.target_id is not None:
            line += " → " + names.get(e.target_id, "?")
        lines.append(line)
    title = t("audit.title_member", member=member) if member else t("audit.title")
    return Reply(title=title, text="\n".join(lines), buttons=[more] if more else [], ephemeral=True)
