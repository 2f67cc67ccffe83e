"""What the public pages show, read through the features' services and repositories, as plain
data (dicts and lists of JSON types): the HTML pages render it and the JSON API returns it as
is, so both always say the same.

Privacy (docs/design.md, "Web page"): only communities whose owners turned the page on; hidden
suggestions never appear (not on the board, not in search, not as a duplicate, not in a
changelog); members appear by display name only when the community's `web_names` is on, else
as a pseudonym derived from the account; nothing from private messages (drafts, ballots, who
voted) is read.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.core.app import App
from bot.core.builtin_settings import WEB_PRIVATE
from bot.core.errors import UserError
from bot.web.site.board import SORTS, BoardCache
from cogs.drops.modes import DropMode, WinSource
from cogs.drops.service import DropService
from cogs.drops.verify import check_stored_draw
from cogs.suggestions.service import SuggestionService
from cogs.suggestions.status import OPEN_STATUSES, ROADMAP_LANES, SuggestionStatus
from cogs.weekly import config as weekly_config
from cogs.weekly.ranking import ItemResult
from cogs.weekly.service import WeeklyService
from storage.drops.drops import DropRow
from storage.suggestions.posts import SuggestionRow

PAGE_SIZE = 25
MAX_PAGE = 400
SEARCH_LIMIT = 100
RECENTLY_SHIPPED = 10
CHANGELOG_RELEASES = 30
REPORTS = 12
DROPS = 20
ENTRANTS_SHOWN = 5000
# Who turned the page on, read again at most this often (seconds).
DIRECTORY_EVERY = 2.0
# The history entries a visitor sees; hiding and showing are moderation, not shown.
PUBLIC_EVENTS = ("created", "status", "merged", "unmerged")


class NotFound(Exception):
    """No such page (or one this visitor may not see): 404."""


@dataclass(frozen=True)
class Site:
    """A community as the web sees it."""

    id: int
    name: str
    private: bool
    path: str  # "/c/3" or "/p/<token>"
    names: bool  # show display names
    half_life_days: int
    language: str


def pseudonym(community_id: int, account_id: int) -> str:
    """A member's stable handle on a community's pages when names are not shown."""
    digest = hashlib.sha256(f"fanloop-web:{community_id}:{account_id}".encode()).hexdigest()
    return f"fan-{digest[:6]}"


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


class SiteReader:
    def __init__(self, app: App, *, check_every: float = 2.0) -> None:
        self.app = app
        self.suggestions = app.services.get(SuggestionService)
        self.weekly = app.services.find(WeeklyService)
        self.board = BoardCache(self.suggestions, check_every=check_every)
        self.directory_every = 0.0 if check_every <= 0 else DIRECTORY_EVERY
        self._sites: dict[int, Site] = {}
        self._private: dict[str, int] = {}
        self._read_at = -1e9
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        await self.board.close()

    # -- which communities -------------------------------------------------------------------

    async def _directory(self) -> None:
        if time.monotonic() - self._read_at < self.directory_every and self._read_at > 0:
            return
        async with self._lock:
            if time.monotonic() - self._read_at < self.directory_every and self._read_at > 0:
                return
            repo = self.app.community_settings.repo
            web = await repo.with_key("web")
            on = {
                cid: str(v) for cid, v in web.items() if v == "on" or str(v).startswith(WEB_PRIVATE)
            }
            names = await repo.with_key("web_names")
            half = await repo.with_key("heat_half_life_days")
            lang = await repo.with_key("language")
            titles = await self.app.identity.community_names(list(on))
            default_lang = self.app.settings.default_locale
            sites: dict[int, Site] = {}
            private: dict[str, int] = {}
            for cid, value in on.items():
                if cid not in titles:
                    continue
                token = value[len(WEB_PRIVATE) :] if value.startswith(WEB_PRIVATE) else None
                sites[cid] = Site(
                    cid,
                    titles[cid],
                    token is not None,
                    f"/p/{token}" if token else f"/c/{cid}",
                    bool(names.get(cid, False)),
                    int(half.get(cid, 7)),
                    str(lang.get(cid, default_lang)),
                )
                if token:
                    private[token] = cid
            self._sites, self._private = sites, private
            self._read_at = time.monotonic()

    async def listed(self) -> list[Site]:
        """The communities that turned their page on publicly, by name."""
        await self._directory()
        return sorted((s for s in self._sites.values() if not s.private), key=lambda s: s.name)

    async def public(self, community_id: int) -> Site:
        await self._directory()
        site = self._sites.get(community_id)
        if site is None or site.private:
            raise NotFound
        return site

    async def private(self, token: str) -> Site:
        await self._directory()
        cid = self._private.get(token)
        if cid is None:
            raise NotFound
        return self._sites[cid]

    # -- the pages' data -------------------------------------------------------------------

    async def board_data(
        self,
        site: Site,
        *,
        sort: str = "heat",
        status: str | None = None,
        category: str | None = None,
        query: str = "",
        page: int = 1,
    ) -> dict[str, Any]:
        sort = sort if sort in SORTS else "heat"
        page = min(max(page, 1), MAX_PAGE)
        offset = (page - 1) * PAGE_SIZE
        query = query.strip()[:200]
        snap = await self.board.get(site.id, site.half_life_days)
        rows: list[tuple[SuggestionRow, float]]
        if query:
            hits = await self.suggestions.search(site.id, query, limit=SEARCH_LIMIT)
            matched = [
                (row, score)
                for row, score in hits
                if (status is None or row.status == status)
                and (category is None or row.category == category)
            ]
            total = len(matched)
            rows = [(row, 0.0) for row, _ in matched[offset : offset + PAGE_SIZE]]
            version = f"s{snap.version}"
        else:
            entries, total = snap.page(
                sort, status if status in OPEN_STATUSES else None, category, offset, PAGE_SIZE
            )
            # Read afresh: the votes as they are now; one hidden since the ranking is left out.
            found = await self.suggestions.repo.visible(site.id, [sid for sid, _ in entries])
            rows = [(found[sid], heat) for sid, heat in entries if sid in found]
            version = snap.version
        categories = sorted(snap.categories, key=str.lower)
        return {
            "community": self._community(site),
            "sort": sort,
            "status": status,
            "category": category,
            "query": query,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "total": total,
            "statuses": list(OPEN_STATUSES)
            if not query
            else [*OPEN_STATUSES, "shipped", "declined"],
            "categories": categories,
            "suggestions": [self._card(row, heat) for row, heat in rows],
            "version": version,
        }

    async def suggestion_data(self, site: Site, sid: int) -> dict[str, Any]:
        try:
            row = await self.suggestions.get(site.id, sid)
        except UserError:
            raise NotFound from None
        history = [e for e in await self.suggestions.repo.history(sid) if e.kind in PUBLIC_EVENTS]
        duplicates = await self.suggestions.repo.merged_into(site.id, sid)
        shipped_in: list[dict[str, Any]] = []
        if self.weekly is not None:
            shipped_in = [
                {"id": r.id, "version": r.version, "released_on": _when(r.released_on)}
                for r in await self.weekly.releases.shipping(site.id, sid)
            ]
        merged_into = None
        if row.merged_into is not None:
            target = await self.suggestions.repo.get(site.id, row.merged_into)
            if target is not None and not target.hidden:
                merged_into = {"id": target.id, "title": target.title}
        # An anonymous suggestion names nobody here either (its admins see who in chat).
        author = None if row.anonymous else await self._author(site, row.author_id)
        per_day: dict[str, int] = {}
        for at in await self.suggestions.repo.vote_dates(sid):
            day = at.date().isoformat()
            per_day[day] = per_day.get(day, 0) + 1
        running, over_time = 0, []
        for day in sorted(per_day):
            running += per_day[day]
            over_time.append({"date": day, "votes": running})
        return {
            "community": self._community(site),
            "suggestion": {
                **self._card(row, None),
                "details": row.details,
                "status_note": row.status_note,
                "author": author,
                "updated_at": _when(row.updated_at),
                "merged_into": merged_into,
            },
            "history": [
                {
                    "kind": e.kind,
                    "old": e.old,
                    "new": e.new,
                    "note": e.note,
                    "at": _when(e.created_at),
                }
                for e in history
            ],
            "duplicates": [{"id": d.id, "title": d.title} for d in duplicates],
            "releases": shipped_in,
            # Cumulative votes by day (UTC), the days with a vote; the last 90 of them.
            "votes_over_time": over_time[-90:],
        }

    async def roadmap_data(self, site: Site) -> dict[str, Any]:
        lanes = await self.suggestions.roadmap(site.id)
        shipped = await self.suggestions.repo.find(site.id, statuses=[SuggestionStatus.SHIPPED])
        shipped.sort(key=lambda r: (r.updated_at, r.id), reverse=True)
        columns = [
            {"status": str(lane), "suggestions": [self._card(r, None) for r in lanes[lane]]}
            for lane in (SuggestionStatus.PLANNED, SuggestionStatus.IN_PROGRESS)
            if lane in ROADMAP_LANES
        ]
        columns.append(
            {
                "status": "shipped",
                "suggestions": [self._card(r, None) for r in shipped[:RECENTLY_SHIPPED]],
            }
        )
        return {"community": self._community(site), "columns": columns}

    async def changelog_data(self, site: Site) -> dict[str, Any]:
        out: list[dict[str, Any]] = []
        if self.weekly is not None:
            releases = await self.weekly.releases.recent(site.id, CHANGELOG_RELEASES)
            items = await self.weekly.releases.items_of([r.id for r in releases])
            ids = sorted(
                {i.suggestion_id for its in items.values() for i in its if i.suggestion_id}
            )
            visible = (
                {r.id: r for r in await self.suggestions.repo.find(site.id, ids=ids)} if ids else {}
            )
            for release in releases:
                entries = []
                for item in items[release.id]:
                    if item.suggestion_id is not None and item.suggestion_id not in visible:
                        continue  # a hidden (or deleted) suggestion: not shown
                    sid = item.suggestion_id
                    entries.append(
                        {
                            "title": item.title,
                            "suggestion": None
                            if sid is None
                            else {"id": sid, "votes": visible[sid].votes},
                        }
                    )
                out.append(
                    {
                        "id": release.id,
                        "version": release.version,
                        "released_on": _when(release.released_on),
                        "items": entries,
                    }
                )
        return {"community": self._community(site), "releases": out}

    async def reports_data(self, site: Site) -> dict[str, Any]:
        """The four-grid reports whose results were posted: ranking, the ones found not good
        enough, the popcorn award, the most anticipated requests, turnout over the weeks."""
        out: list[dict[str, Any]] = []
        if self.weekly is not None:
            cfg = await weekly_config.load(self.app.community_settings, site.id)
            for report in await self.weekly.reports.published(site.id, REPORTS):
                results = await self.weekly.results(report, cfg)
                ids = {i.suggestion_id for i in results.items if i.suggestion_id}
                ids |= {sid for sid, _, _ in results.anticipated}
                visible = await self.suggestions.repo.visible(site.id, sorted(ids))

                def shown(sid: int | None, visible: dict[int, SuggestionRow] = visible) -> bool:
                    return sid is None or sid in visible

                def item(r: ItemResult) -> dict[str, Any]:
                    return {
                        "title": r.title,
                        "suggestion_id": r.suggestion_id,
                        "counts": list(r.counts),
                        "tried": r.tried,
                        "love_share": round(r.love_share, 3),
                        "score": round(r.score, 3),
                    }

                award = results.ranking.award
                out.append(
                    {
                        "id": report.id,
                        "period": report.period,
                        "release": {"id": results.release.id, "version": results.release.version},
                        "labels": report.labels or cfg.labels,
                        "turnout": results.turnout,
                        "ranking": [
                            item(r) for r in results.ranking.ranked if shown(r.suggestion_id)
                        ],
                        "not_good_enough": [
                            item(r)
                            for r in results.ranking.not_good_enough
                            if shown(r.suggestion_id)
                        ],
                        "award": item(award) if award and shown(award.suggestion_id) else None,
                        "anticipated": [
                            {"id": sid, "title": visible[sid].title, "picks": n}
                            for sid, _, n in results.anticipated
                            if sid in visible
                        ],
                        "trend": [{"period": p, "turnout": n} for p, n in results.trend],
                    }
                )
        most = max((t["turnout"] for r in out for t in r["trend"]), default=0)
        return {"community": self._community(site), "reports": out, "most_turnout": most}

    async def drops_data(self, site: Site) -> dict[str, Any]:
        """The community's drops: live reservation and remaining counts, and the draw's public
        parts (the seed only once drawn)."""
        out: list[dict[str, Any]] = []
        svc = self.app.services.find(DropService)
        if svc is not None:
            rows = await svc.drops.of_community(site.id)
            for drop in sorted(rows, key=lambda d: (d.drop_at, d.id), reverse=True)[:DROPS]:
                out.append(await self._drop(svc, drop))
        return {"community": self._community(site), "drops": out}

    async def drop_data(self, site: Site, drop_id: int) -> dict[str, Any]:
        """One drop, with the lottery's verification recomputed and its entrant list."""
        svc = self.app.services.find(DropService)
        drop = await svc.drops.get(drop_id, site.id) if svc is not None else None
        if svc is None or drop is None:
            raise NotFound
        data = await self._drop(svc, drop)
        verification: dict[str, Any] | None = None
        entrants: list[dict[str, Any]] = []
        if drop.mode == DropMode.LOTTERY and drop.drawn_at is not None:
            check = await check_stored_draw(self.app.engine, drop.id)
            verification = {
                "commitment_ok": check.commitment_ok,
                "entrants_ok": check.entrants_ok,
                "winners_ok": check.stored_ok,
                "ok": check.ok,
            }
            listed = await svc.reservations.draw_entrants(drop.id, excluded_source=WinSource.FCODE)
            won = dict(check.winners)
            entrants = [
                {
                    "account_id": account,
                    "handle": pseudonym(site.id, account),
                    "units": units,
                    "won": won.get(account, 0),
                }
                for account, units in sorted(listed)[:ENTRANTS_SHOWN]
            ]
            data["entrants_shown"] = len(entrants)
        return {
            "community": self._community(site),
            "drop": data,
            "verification": verification,
            "entrants": entrants,
        }

    async def _drop(self, svc: DropService, drop: DropRow) -> dict[str, Any]:
        counts = await svc.counts(drop.id)
        drawn = drop.drawn_at is not None
        return {
            "id": drop.id,
            "name": drop.name,
            "description": drop.description,
            "mode": drop.mode,
            "quota": drop.quota,
            "opens_at": _when(drop.opens_at),
            "closes_at": _when(drop.closes_at),
            "drop_at": _when(drop.drop_at),
            "cancelled": drop.cancelled_at is not None,
            "reservations": counts.reservations,
            "taken": counts.taken,
            "remaining": max(0, drop.quota - counts.taken),
            "lottery": None
            if drop.mode != DropMode.LOTTERY
            else {
                "commitment": drop.commitment,
                "drawn_at": _when(drop.drawn_at),
                "seed": drop.seed if drawn else None,  # secret until the draw
                "entrants_hash": drop.entrants_hash if drawn else None,
                "entrants": drop.entrants_count if drawn else None,
                "slots": drop.drawn_slots if drawn else None,
            },
        }

    # -- pieces ----------------------------------------------------------------------------

    def _community(self, site: Site) -> dict[str, Any]:
        base = self.app.settings.web_base_url
        return {
            "id": site.id,
            "name": site.name,
            "path": site.path,
            "private": site.private,
            # The page's public address, behind the reverse proxy (`web_base_url`).
            "url": f"{base}{site.path}/" if base else None,
        }

    def _card(self, row: SuggestionRow, heat: float | None) -> dict[str, Any]:
        card: dict[str, Any] = {
            "id": row.id,
            "title": row.title,
            "status": row.status,
            "category": row.category,
            "votes": row.votes,
            "created_at": _when(row.created_at),
        }
        if heat is not None:
            card["heat"] = round(heat, 2)
        return card

    async def _author(self, site: Site, account_id: int) -> str:
        if site.names:
            names = await self.app.identity.display_names([account_id])
            if account_id in names:
                return names[account_id]
        return pseudonym(site.id, account_id)
