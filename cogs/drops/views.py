"""How drops look: one place, every adapter renders the same Reply.

The drop's public messages carry the subject `dp:<drop>`. Its card (the announcement when
reservations open, then the one when claims open) is the drop's live message: the live count
(`status`) edits it in place on the platforms that can edit their messages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.actions import make_action
from bot.core.clock import format_duration, local_time
from bot.core.i18n import Translator
from bot.core.reply import Button, Field, Reply
from cogs.drops.claims import ClaimResult, ClaimStatus
from cogs.drops.lottery import revealed_seed
from cogs.drops.modes import DropMode
from cogs.drops.phases import DropPhase, phase
from storage.drops.drops import DropCounts, DropRow

Tr = Callable[..., str]


def render(tr: Translator, build: Callable[[Tr], Reply]) -> Callable[[str], Reply]:
    """An outbox renderer: locale -> Reply."""

    def for_locale(locale: str) -> Reply:
        def t(key: str, /, **params: Any) -> str:
            return tr(locale, key, **params)

        return build(t)

    return for_locale


def subject(drop_id: int) -> str:
    return f"dp:{drop_id}"


def when(dt: datetime, tz: ZoneInfo) -> str:
    return local_time(dt, tz)


def duration(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def progress_bar(left: int, quota: int, width: int = 20) -> str:
    filled = round(width * left / quota) if quota else 0
    if left > 0:
        filled = max(filled, 1)
    return "▓" * filled + "░" * (width - filled)


def status_sig(drop: DropRow, counts: DropCounts) -> str:
    return f"{counts.reservations}:{counts.taken}:{counts.waiting}"


def reserve_button(t: Tr, drop: DropRow) -> Button:
    return Button(t("drop.button.reserve"), make_action("dr", drop.id), "primary")


def claim_button(t: Tr, drop: DropRow) -> Button:
    return Button(t("drop.button.claim"), make_action("dc", drop.id), "success")


def confirm_button(t: Tr, drop: DropRow) -> Button:
    return Button(t("drop.button.confirm"), make_action("dk", drop.id), "success")


def eligibility_text(t: Tr, drop: DropRow) -> str:
    parts = []
    if drop.roles:
        parts.append(t("drop.elig.roles", roles=", ".join(drop.roles)))
    if drop.min_days:
        parts.append(t("drop.elig.days", days=drop.min_days))
    if drop.min_score:
        parts.append(t("drop.elig.score", score=drop.min_score))
    if drop.tiers:
        parts.append(t("drop.elig.tiers", tiers=", ".join(drop.tiers)))
    return "; ".join(parts) or t("drop.elig.everyone")


def fields(t: Tr, drop: DropRow, counts: DropCounts, tz: ZoneInfo) -> list[Field]:
    out = [
        Field(t("drop.field.mode"), t(f"drop.mode.{drop.mode}"), inline=True),
        Field(t("drop.field.quota"), str(drop.quota), inline=True),
        Field(t("drop.field.reserved"), str(counts.reservations), inline=True),
        Field(
            t("drop.field.window"),
            f"{when(drop.opens_at, tz)} → {when(drop.closes_at, tz)}",
        ),
        Field(t("drop.field.drop_at"), when(drop.drop_at, tz), inline=True),
        Field(t("drop.field.per_account"), str(drop.per_account), inline=True),
        Field(t("drop.field.confirm"), format_duration(drop.confirm_seconds), inline=True),
        Field(t("drop.field.eligibility"), eligibility_text(t, drop)),
    ]
    if drop.mode == DropMode.LOTTERY:
        out.append(Field(t("drop.field.commitment"), drop.commitment))
    return out


def remaining_field(t: Tr, drop: DropRow, counts: DropCounts) -> Field:
    left = max(0, drop.quota - counts.taken)
    bar = progress_bar(left, drop.quota)
    return Field(t("drop.field.remaining"), f"{bar} {left}/{drop.quota}")


def card(
    t: Tr, drop: DropRow, counts: DropCounts, tz: ZoneInfo, now: datetime, heading: str = ""
) -> Reply:
    """The drop as it stands now, with the button that fits its phase."""
    now_phase = phase(drop, now)
    out = fields(t, drop, counts, tz)
    buttons: list[Button] = []
    if now_phase == DropPhase.RESERVING:
        buttons.append(reserve_button(t, drop))
    if now_phase == DropPhase.OPEN and drop.mode == DropMode.FLASH:
        out.append(remaining_field(t, drop, counts))
        if counts.taken < drop.quota:
            buttons.append(claim_button(t, drop))
    seed = revealed_seed(drop)
    if seed:
        out.append(Field(t("drop.field.seed"), seed))
        out.append(Field(t("drop.field.entrants_hash"), drop.entrants_hash or ""))
    text = "\n".join(p for p in (heading, drop.description) if p)
    return Reply(
        title=t("drop.title", id=drop.id, name=drop.name, phase=t(f"drop.phase.{now_phase}")),
        text=text,
        fields=out,
        buttons=buttons,
        subject=subject(drop.id),
        web_path=f"/drops/{drop.id}",
        footer=t("drop.footer.reserve", id=drop.id) if now_phase == DropPhase.RESERVING else "",
    )


def opened(t: Tr, drop: DropRow, counts: DropCounts, tz: ZoneInfo, now: datetime) -> Reply:
    heading = t("drop.opened", name=drop.name, quota=drop.quota)
    if drop.mode == DropMode.LOTTERY:
        heading += "\n" + t("drop.commitment_note", commitment=drop.commitment)
    return card(t, drop, counts, tz, now, heading)


def status(t: Tr, drop: DropRow, counts: DropCounts, tz: ZoneInfo, now: datetime) -> Reply:
    """The live card with the counts of now; it keeps the heading of the message it edits."""
    now_phase = phase(drop, now)
    if now_phase == DropPhase.RESERVING:
        return opened(t, drop, counts, tz, now)
    if now_phase == DropPhase.OPEN and drop.mode == DropMode.FLASH and drop.started_at:
        return card(t, drop, counts, tz, now, t("drop.claims_open", name=drop.name))
    return card(t, drop, counts, tz, now)


def reminder(t: Tr, drop: DropRow, tz: ZoneInfo) -> Reply:
    """The private reminder to a reserver before drop time."""
    lottery = drop.mode == DropMode.LOTTERY
    key = "drop.notice.reminder_lottery" if lottery else "drop.notice.reminder"
    return Reply(
        text=t(key, name=drop.name, at=when(drop.drop_at, tz)),
        footer=t("drop.notice.reminder_off", id=drop.id),
        subject=subject(drop.id),
    )


def claims_open(t: Tr, drop: DropRow, counts: DropCounts, tz: ZoneInfo) -> Reply:
    return card(t, drop, counts, tz, drop.drop_at, t("drop.claims_open", name=drop.name))


def claim_nudge(t: Tr, drop: DropRow) -> Reply:
    return Reply(text=t("drop.nudge", name=drop.name), buttons=[claim_button(t, drop)])


def draw_result(t: Tr, drop: DropRow, winners: int, tz: ZoneInfo) -> Reply:
    return Reply(
        title=t("drop.draw.title", id=drop.id, name=drop.name),
        text=t("drop.draw.text", winners=winners, entrants=drop.entrants_count or 0),
        fields=[
            Field(t("drop.field.commitment"), drop.commitment),
            Field(t("drop.field.seed"), revealed_seed(drop) or ""),
            Field(t("drop.field.entrants_hash"), drop.entrants_hash or ""),
            Field(t("drop.field.slots"), str(drop.drawn_slots or 0), inline=True),
            Field(t("drop.field.drawn_at"), when(drop.drawn_at or drop.drop_at, tz), inline=True),
        ],
        footer=t("drop.draw.verify", id=drop.id),
        subject=subject(drop.id),
        web_path=f"/drops/{drop.id}",
    )


def you_won(t: Tr, drop: DropRow, confirm_by: datetime, tz: ZoneInfo) -> Reply:
    return Reply(
        text=t("drop.notice.won", name=drop.name, deadline=when(confirm_by, tz)),
        buttons=[confirm_button(t, drop)],
    )


def you_wait(t: Tr, drop: DropRow) -> Reply:
    return Reply(text=t("drop.notice.waiting", name=drop.name))


def lapsed(t: Tr, drop: DropRow) -> Reply:
    return Reply(text=t("drop.notice.lapsed", name=drop.name))


def promoted(t: Tr, drop: DropRow, confirm_by: datetime, tz: ZoneInfo) -> Reply:
    return Reply(
        text=t("drop.notice.promoted", name=drop.name, deadline=when(confirm_by, tz)),
        buttons=[confirm_button(t, drop)],
    )


def sold_out(t: Tr, drop: DropRow) -> Reply:
    took = (drop.sold_out_at - drop.drop_at).total_seconds() if drop.sold_out_at else 0
    return Reply(
        text=t("drop.sold_out_in", name=drop.name, quota=drop.quota, took=duration(took)),
        subject=subject(drop.id),
    )


def you_won_code(
    t: Tr, drop: DropRow, code: str, units: int, confirm_by: datetime, tz: ZoneInfo
) -> Reply:
    """The private message with a flash win's code (stored with the win)."""
    return Reply(
        text=t(
            "drop.claim.won", name=drop.name, code=code, units=units, deadline=when(confirm_by, tz)
        ),
        buttons=[confirm_button(t, drop)],
    )


def claim_answer(
    t: Tr, drop: DropRow, result: ClaimResult, tz: ZoneInfo, *, sent: bool = False
) -> Reply:
    """The private answer every claimer gets. `sent`: a fresh win whose code also went out as a
    private message (with the button to confirm), so the answer is short."""
    if result.status == ClaimStatus.WON:
        assert result.code is not None and result.confirm_by is not None
        if sent and not result.again:
            return Reply(
                text=t(
                    "drop.claim.won_sent",
                    name=drop.name,
                    code=result.code,
                    units=result.units,
                    deadline=when(result.confirm_by, tz),
                ),
                ephemeral=True,
            )
        key = "drop.claim.won_again" if result.again else "drop.claim.won"
        return Reply(
            text=t(
                key,
                name=drop.name,
                code=result.code,
                units=result.units,
                deadline=when(result.confirm_by, tz),
            ),
            buttons=[confirm_button(t, drop)],
            ephemeral=True,
        )
    if result.status == ClaimStatus.WAITLISTED:
        key = "drop.claim.waitlisted_again" if result.again else "drop.claim.waitlisted"
        return Reply(text=t(key, name=drop.name, position=result.position), ephemeral=True)
    return Reply(text=t(f"drop.claim.{result.status}", name=drop.name), ephemeral=True)
