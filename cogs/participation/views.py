"""How the participation record looks in replies, the same on every platform."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from bot.core.reply import Field, Reply
from cogs.participation.periods import Period
from cogs.participation.ranking import Ranked
from cogs.participation.rules import KINDS, Rules
from cogs.suggestions.service import SuggestionRow
from storage.participation.ledger import Grant
from storage.participation.tiers import HeldTier, TierRow

Tr = Callable[..., str]  # ctx.t: (key, **params) -> text
Translate = Callable[..., str]  # a Translator: (locale, key, **params) -> text

LEADERBOARD_SIZE = 10
LIST_LIMIT = 30
ANNOUNCE_LIMIT = 20


def period_label(t: Tr, p: Period) -> str:
    if p.first_day is None or p.last_day is None:
        return t("leaderboard.period.all")
    return t(
        f"leaderboard.period.{p.name}",
        start=p.first_day.isoformat(),
        end=p.last_day.isoformat(),
        month=p.first_day.strftime("%Y-%m"),
    )


def kind_label(t: Tr, kind: str) -> str:
    return t(f"points.kind.{kind}")


def leaderboard(
    t: Tr, p: Period, top: list[Ranked], names: dict[int, str], me: Ranked | None
) -> Reply:
    label = period_label(t, p)
    if not top:
        return Reply(text=t("leaderboard.empty", period=label))
    lines = [
        t("leaderboard.line", rank=r.rank, name=names.get(r.account_id, "?"), points=r.points)
        for r in top
    ]
    footer = [t("leaderboard.ties")]
    if me is not None and me.account_id not in {r.account_id for r in top}:
        footer.insert(0, t("leaderboard.you", rank=me.rank, points=me.points))
    return Reply(
        title=t("leaderboard.title", period=label), text="\n".join(lines), footer="\n".join(footer)
    )


def profile(
    t: Tr,
    name: str,
    points: int,
    rank: int | None,
    members: int,
    week: int,
    month: int,
    breakdown: dict[str, tuple[int, int]],
    tier: TierRow | None,
    upcoming: TierRow | None,
    suggestions: Sequence[SuggestionRow] | None,
    grants: Sequence[Grant] = (),
    grants_count: int = 0,
    grants_total: int = 0,
) -> Reply:
    fields = [
        Field(
            t("profile.field.points"),
            t("profile.points_rank", points=points, rank=rank, members=members)
            if rank
            else str(points),
            inline=True,
        ),
        Field(t("profile.field.recent"), t("profile.recent", week=week, month=month), inline=True),
    ]
    tier_text = tier.name if tier else t("profile.no_tier")
    if upcoming is not None:
        tier_text += "\n" + t(
            "profile.next_tier",
            name=upcoming.name,
            points=upcoming.threshold,
            missing=upcoming.threshold - points,
        )
    fields.append(Field(t("profile.field.tier"), tier_text, inline=True))
    fields.append(
        Field(
            t("profile.field.contributions"),
            "\n".join(
                t(
                    "profile.contribution",
                    kind=kind_label(t, kind),
                    count=breakdown.get(kind, (0, 0))[0],
                    points=breakdown.get(kind, (0, 0))[1],
                )
                for kind in KINDS
            ),
        )
    )
    if grants_count:
        lines = [
            t(
                "profile.grant",
                points=f"{g.points:+d}",
                reason=g.reason,
                day=g.at.date().isoformat(),
            )
            for g in grants
        ]
        if grants_count > len(grants):
            lines.append(t("profile.grants_more", count=grants_count - len(grants)))
        fields.append(
            Field(t("profile.field.grants", points=f"{grants_total:+d}"), "\n".join(lines))
        )
    if suggestions is not None:
        fields.append(Field(t("profile.field.suggestions"), _suggestions(t, suggestions)))
    return Reply(title=t("profile.title", name=name), fields=fields, ephemeral=True)


def _suggestions(t: Tr, rows: Sequence[SuggestionRow]) -> str:
    if not rows:
        return t("profile.no_suggestions")
    by_status = Counter(r.status for r in rows)
    summary = ", ".join(f"{t(f'status.{s}')} {n}" for s, n in by_status.most_common())
    lines = [t("profile.suggestions_summary", count=len(rows), statuses=summary)]
    lines += [
        t("profile.suggestion", id=r.id, title=r.title, status=t(f"status.{r.status}"))
        for r in rows[:5]
    ]
    if len(rows) > 5:
        lines.append(t("profile.more", count=len(rows) - 5))
    return "\n".join(lines)


def tiers(t: Tr, rows: list[TierRow], counts: dict[str, int], rules: Rules) -> Reply:
    if rows:
        lines = [
            t(
                "tier.line",
                name=r.name,
                points=r.threshold,
                count=counts.get(r.name, 0),
                role=r.role or t("tier.no_role"),
            )
            for r in reversed(rows)
        ]
        text = "\n".join(lines)
    else:
        text = t("tier.none")
    earn = [t(f"points.rule.{k}", points=rules.value(k)) for k in KINDS if rules.value(k) > 0]
    if rules.daily_cap:
        earn.append(t("points.cap", cap=rules.daily_cap))
    return Reply(
        title=t("tier.title"),
        text=text,
        fields=[Field(t("points.rules_title"), "\n".join(earn) or t("points.no_rules"))],
        footer=t("points.self_note"),
    )


def tier_members(t: Tr, tier: TierRow, held: list[HeldTier], names: dict[int, str]) -> Reply:
    if not held:
        return Reply(text=t("tier.list_empty", name=tier.name), ephemeral=True)
    lines = [
        t("tier.member", name=names.get(h.account_id, "?"), since=h.since.date().isoformat())
        for h in held[:LIST_LIMIT]
    ]
    if len(held) > LIST_LIMIT:
        lines.append(t("profile.more", count=len(held) - LIST_LIMIT))
    return Reply(
        title=t("tier.list_title", name=tier.name, count=len(held)),
        text="\n".join(lines),
        footer=t("tier.list_role", role=tier.role) if tier.role else t("tier.list_no_role"),
        ephemeral=True,
    )


def render_promotions(
    translate: Translate, promotions: list[tuple[str, str, int]]
) -> Callable[[str], Reply]:
    """Announcement of promotions, rendered later in the community's language."""

    def render(locale: str) -> Reply:
        lines = [
            translate(locale, "tier.promoted", name=name, tier=tier, points=points)
            for name, tier, points in promotions[:ANNOUNCE_LIMIT]
        ]
        if len(promotions) > ANNOUNCE_LIMIT:
            lines.append(translate(locale, "profile.more", count=len(promotions) - ANNOUNCE_LIMIT))
        return Reply(title=translate(locale, "tier.promoted_title"), text="\n".join(lines))

    return render


def render_grant(
    translate: Translate, points: int, reason: str, total: int
) -> Callable[[str], Reply]:
    """Told to a member whose points an owner changed by hand."""
    key = "points.notice.granted" if points > 0 else "points.notice.deducted"

    def render(locale: str) -> Reply:
        return Reply(text=translate(locale, key, points=abs(points), reason=reason, total=total))

    return render


def render_fcode(
    translate: Translate, community: str, rank: int, p: Period, drop_id: int, code: str
) -> Callable[[str], Reply]:
    """A private message with one member's F-code."""

    def render(locale: str) -> Reply:
        def t(key: str, **params: object) -> str:
            return translate(locale, key, **params)

        return Reply(
            text=t(
                "points.reward.notice",
                community=community,
                rank=rank,
                period=period_label(t, p),
                drop=drop_id,
                code=code,
            )
        )

    return render
