"""The daily admin digest (new and rising suggestions, likely duplicates, reports waiting) and
the monthly roadmap post (planned and in progress suggestions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.clock import Clock
from bot.core.i18n import LOCALES
from bot.core.outbox import Outbox
from bot.core.reply import Reply
from bot.core.settings import SettingsService
from cogs.suggestions.service import SuggestionRow
from cogs.suggestions.status import ROADMAP_LANES
from cogs.weekly import config, release_views
from cogs.weekly.flows import WeeklyFlows, next_fire

DAY = timedelta(days=1)
RISING_HALF_LIFE = timedelta(days=1)  # heat with a one-day half-life: what moves right now
RISING_MIN_HEAT = 1.0


@dataclass
class Digest:
    new: list[SuggestionRow] = field(default_factory=list)
    rising: list[tuple[SuggestionRow, float]] = field(default_factory=list)
    duplicates: list[tuple[SuggestionRow, SuggestionRow, float]] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # translated lines about reports

    def __bool__(self) -> bool:
        """Something happened in the last 24 hours. The reports' lines are standing context,
        the same day after day: alone they do not make a digest worth sending."""
        return bool(self.new or self.rising or self.duplicates)


class DigestWork:
    def __init__(
        self, flows: WeeklyFlows, clock: Clock, outbox: Outbox, settings: SettingsService
    ) -> None:
        self.flows = flows
        self.clock = clock
        self.outbox = outbox
        self.settings = settings
        self.service = flows.service

    async def build(self, cid: int, now: datetime, locale: str) -> Digest:
        digest = Digest()
        svc = self.service.suggestions()
        if svc is not None:
            digest.new = [r for r in await svc.newest(cid, limit=50) if now - r.created_at <= DAY]
            digest.rising = [
                (row, heat)
                for row, heat in await svc.top(
                    cid, RISING_HALF_LIFE, limit=5, voted_since=now - DAY
                )
                if heat >= RISING_MIN_HEAT
            ]
            for row in digest.new[:10]:
                # The suggestion cog's own bar: what /suggest would have shown as similar.
                for other, score in await svc.similar(
                    cid, f"{row.title}\n{row.details}", k=1, exclude=(row.id,)
                ):
                    digest.duplicates.append((row, other, score))
        digest.waiting = await self._waiting(cid, now, locale)
        return digest

    async def _waiting(self, cid: int, now: datetime, locale: str) -> list[str]:
        t = self.flows.tr(locale)
        tz = await self.flows.tz(cid)
        out = []
        report = await self.service.reports.current(cid)
        if report is not None:
            release = await self.service.releases.get(cid, report.release_id)
            turnout = await self.service.ballots.turnout(report.id)
            out.append(
                t(
                    "digest.report_open",
                    version=release.version if release else "?",
                    count=turnout,
                    when=release_views.when(t, report.closes_at, tz),
                )
            )
        latest = await self.service.releases.latest(cid)
        if latest is not None and await self.service.reports.for_release(latest.id) is None:
            cfg = await config.load(self.settings, cid)
            upcoming = next_fire(cfg.day, cfg.hour, cfg.minute, tz, now) if cfg.auto else None
            if upcoming is not None:
                out.append(
                    t(
                        "digest.report_due",
                        version=latest.version,
                        when=release_views.when(t, upcoming, tz),
                    )
                )
            else:
                out.append(t("digest.report_manual", version=latest.version))
        return out

    def render(self, digest: Digest, locale: str, day: str) -> Reply:
        t = self.flows.tr(locale)
        lines: list[str] = []
        if digest.new:
            lines.append(t("digest.new", count=len(digest.new)))
            lines += [f"  #{r.id} {r.title} (👍 {r.votes})" for r in digest.new[:10]]
        if digest.rising:
            lines.append(t("digest.rising"))
            lines += [
                "  "
                + t("digest.rising_line", id=r.id, title=r.title, votes=r.votes, heat=f"{h:.1f}")
                for r, h in digest.rising
            ]
        if digest.duplicates:
            lines.append(t("digest.duplicates"))
            lines += [
                "  "
                + t(
                    "digest.duplicate_line",
                    id=a.id,
                    title=a.title,
                    other=b.id,
                    other_title=b.title,
                    score=f"{s:.0%}",
                )
                for a, b, s in digest.duplicates
            ]
        if digest.waiting:
            lines.append(t("digest.reports"))
            lines += [f"  {line}" for line in digest.waiting]
        if not digest:
            lines.insert(0, t("digest.quiet"))
        return Reply(title=t("digest.title", date=day), text="\n".join(lines))

    async def send_digest(self, cid: int, key: str) -> int:
        """Send today's digest to the admins who asked for it; nothing when the day was quiet."""
        subscribers = await self.service.digest_subscribers.subscribers(cid)
        if not subscribers:
            return 0
        now = self.clock.now()
        tz = await self.flows.tz(cid)
        day = now.astimezone(tz).date().isoformat()
        default_locale = await self.settings.language(cid)
        digest = await self.build(cid, now, default_locale)
        if not digest:
            return 0
        cache: dict[str, Digest] = {default_locale: digest}

        def render(locale: str) -> Reply:
            # `waiting` holds translated lines: rebuild them only for another language.
            return self.render(cache.get(locale, digest), locale, day)

        for locale in set(LOCALES) - {default_locale}:
            cache[locale] = Digest(
                digest.new, digest.rising, digest.duplicates, await self._waiting(cid, now, locale)
            )
        return await self.outbox.notify(cid, subscribers, render, dedup_key=key, force=True)

    async def post_roadmap(self, cid: int, fire: datetime, key: str) -> int:
        svc = self.service.suggestions()
        if svc is None:
            return 0
        lanes = await svc.roadmap(cid)
        if not any(lanes.values()):
            return 0
        local = fire.astimezone(await self.flows.tz(cid))

        def render(locale: str) -> Reply:
            t = self.flows.tr(locale)
            lines: list[str] = []
            for lane in ROADMAP_LANES:
                if lanes[lane]:
                    lines.append(t(f"status.{lane}") + ":")
                    lines += [f"  #{r.id} {r.title} (👍 {r.votes})" for r in lanes[lane]]
            return Reply(
                title=t("roadmap.monthly.title", year=local.year, month=local.month),
                text="\n".join(lines),
                footer=t("roadmap.monthly.footer"),
            )

        return await self.outbox.announce(cid, render, dedup_key=key)
