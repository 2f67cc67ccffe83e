"""Keeping the ledger in step with the contribution sources.

- `sync`: incremental. Asks every source for contributions since the last sync (less a short
  overlap for transactions that were still committing), credits the new ones, and re-applies the
  daily cap to the (member, kind, day) groups they touched. Cheap; runs on every scheduler tick
  and before commands answer.
- `reconcile`: compares the whole ledger with everything the sources report now: contributions
  that are gone (a vote taken back, a suggestion hidden or merged away) leave the ledger, late
  ones (votes a merge carried over, an unhidden suggestion) come in. Rows that stay keep the points
  they were credited with. Runs every RECONCILE_EVERY per community, and after accounts merge.
- `recompute`: rebuilds the ledger from the sources under the current rules (after a rule change).

All three derive entries with the same pure functions (`ledger.plan`, `ledger.counted_keys`), so
after a reconciliation the ledger equals a recompute's when the rules did not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.clock import Clock
from bot.core.participation import Contribution, ContributionSource
from bot.core.settings import SettingsService
from cogs.participation.ledger import Entry, Key, counted_keys, plan, points_for, resolve_aliases
from cogs.participation.rules import Rules, load_rules
from storage.participation.ledger import LedgerRepo, NewRow, RowChange

OVERLAP = timedelta(minutes=2)
RECONCILE_EVERY = timedelta(minutes=15)


@dataclass(frozen=True)
class Recomputed:
    community_id: int
    rows: int
    members: int
    points_before: int
    points_after: int


class LedgerSync:
    def __init__(
        self,
        repo: LedgerRepo,
        clock: Clock,
        settings: SettingsService,
        sources: Sequence[ContributionSource],
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.settings = settings
        self.sources = sources  # every cog's, read at each sync

    async def gather(self, community_id: int, since: datetime | None = None) -> list[Contribution]:
        """Every loaded cog's contributions. A failing source fails the sync (nothing is
        credited or removed on partial information); the next tick tries again."""
        out: list[Contribution] = []
        for source in self.sources:
            out.extend(await source(community_id, since))
        return out

    async def _setting(self, community_id: int) -> tuple[Rules, ZoneInfo, dict[int, int]]:
        rules = await load_rules(self.settings, community_id)
        tz = await self.settings.timezone(community_id)
        aliases = resolve_aliases(await self.repo.aliases())
        return rules, tz, aliases

    async def sync(self, community_id: int) -> set[int]:
        """Credit contributions made since the last sync; returns the members whose points moved."""
        now = self.clock.now()
        state = await self.repo.state(community_id)
        if state.synced_until is None:
            return await self.reconcile(community_id)
        since = state.synced_until - OVERLAP
        rules, tz, aliases = await self._setting(community_id)
        fresh = plan(await self.gather(community_id, since), rules, tz, aliases)
        existing = await self.repo.rows_of(community_id, {e.account_id for e in fresh.values()})
        have = {r.key for r in existing}
        new = [e for k, e in fresh.items() if k not in have]
        if not new:
            # Nothing to write: the watermark stays (the next window is a little wider, until
            # something new comes or the next reconciliation moves it).
            return set()
        groups = {e.group for e in new}
        around = [r for r in existing if (r.account_id, r.kind, r.day) in groups]
        counted = counted_keys(
            [*new, *(Entry(r.account_id, r.kind, r.ref, r.at, r.day) for r in around)],
            rules.daily_cap,
        )
        inserts = [_new_row(e, e.key in counted, rules) for e in new]
        changes = [
            RowChange(
                r.id, r.at, r.day, r.key in counted, points_for(r.kind, r.key in counted, rules)
            )
            for r in around
            if (r.key in counted) != r.counted
        ]
        await self.repo.apply(community_id, inserts, changes)
        await self.repo.set_state(community_id, synced_until=now)
        return {e.account_id for e in new}

    async def _desired(self, community_id: int) -> tuple[dict[Key, Entry], set[Key], Rules]:
        rules, tz, aliases = await self._setting(community_id)
        desired = plan(await self.gather(community_id, None), rules, tz, aliases)
        return desired, counted_keys(desired.values(), rules.daily_cap), rules

    async def reconcile(self, community_id: int) -> set[int]:
        """Make the ledger match what the sources report now; returns the members touched."""
        now = self.clock.now()
        desired, counted, rules = await self._desired(community_id)
        existing = await self.repo.rows(community_id)
        have = {r.key for r in existing}
        deletes, changes = [], []
        touched: set[int] = set()
        for r in existing:
            e = desired.get(r.key)
            if e is None:
                deletes.append(r.id)
                touched.add(r.account_id)
                continue
            c = r.key in counted
            if (r.at, r.day, r.counted) != (e.at, e.day, c):
                points = r.points if c == r.counted else points_for(r.kind, c, rules)
                changes.append(RowChange(r.id, e.at, e.day, c, points))
                touched.add(r.account_id)
        inserts = [_new_row(e, k in counted, rules) for k, e in desired.items() if k not in have]
        touched.update(e.account_id for e in inserts)
        await self.repo.apply(community_id, inserts, changes, deletes)
        await self.repo.set_state(community_id, synced_until=now, reconciled_at=now)
        return touched

    async def recompute(self, community_id: int) -> Recomputed:
        """Rebuild the community's ledger from the sources under the current rules."""
        now = self.clock.now()
        before = await self.repo.totals(community_id)
        desired, counted, rules = await self._desired(community_id)
        rows = [_new_row(e, k in counted, rules) for k, e in desired.items()]
        await self.repo.replace(community_id, rows, now)
        return Recomputed(
            community_id,
            len(rows),
            len({r.account_id for r in rows if r.points > 0}),
            sum(t.points for t in before),
            sum(r.points for r in rows),
        )


def _new_row(e: Entry, counted: bool, rules: Rules) -> NewRow:
    return NewRow(
        e.account_id, e.kind, e.ref, e.at, e.day, counted, points_for(e.kind, counted, rules)
    )
