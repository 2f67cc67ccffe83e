"""Pure ledger rules: which contributions become ledger entries, and which of them count.

Both the incremental sync and a full recompute go through these functions, which is what makes
the two agree: the ledger is a function of the contributions, the rules and the time zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.core.participation import Contribution
from cogs.participation.rules import Rules

Key = tuple[int, str, str]  # (account, kind, ref)
Group = tuple[int, str, date]  # (account, kind, local day): the daily cap counts per group


@dataclass(frozen=True)
class Entry:
    account_id: int
    kind: str
    ref: str
    at: datetime
    day: date

    @property
    def key(self) -> Key:
        return (self.account_id, self.kind, self.ref)

    @property
    def group(self) -> Group:
        return (self.account_id, self.kind, self.day)


def resolve_aliases(pairs: Iterable[tuple[int, int]]) -> dict[int, int]:
    """from → final account, following chains (a linked into b, b later linked into c)."""
    direct = dict(pairs)
    out: dict[int, int] = {}
    for start in direct:
        seen = {start}
        target = direct[start]
        while target in direct and target not in seen:
            seen.add(target)
            target = direct[target]
        out[start] = target
    return out


def plan(
    contributions: Iterable[Contribution],
    rules: Rules,
    tz: ZoneInfo,
    aliases: Mapping[int, int],
) -> dict[Key, Entry]:
    """Ledger entries for contributions: accounts follow their links, kinds without a rule are
    left out, and one (account, kind, ref) is one entry (the earliest, when two linked accounts
    both made it)."""
    out: dict[Key, Entry] = {}
    for c in contributions:
        if not rules.knows(c.kind):
            continue
        account = aliases.get(c.account_id, c.account_id)
        key = (account, c.kind, c.ref)
        current = out.get(key)
        if current is None or c.at < current.at:
            out[key] = Entry(account, c.kind, c.ref, c.at, c.at.astimezone(tz).date())
    return out


def counted_keys(entries: Iterable[Entry], cap: int) -> set[Key]:
    """The entries that earn points: the first `cap` of each (account, kind, day), in time order
    (then by ref), or all of them when there is no cap."""
    if cap <= 0:
        return {e.key for e in entries}
    groups: dict[Group, list[Entry]] = defaultdict(list)
    for e in entries:
        groups[e.group].append(e)
    out: set[Key] = set()
    for members in groups.values():
        members.sort(key=lambda e: (e.at, e.ref))
        out.update(e.key for e in members[:cap])
    return out


def points_for(kind: str, counted: bool, rules: Rules) -> int:
    return rules.value(kind) if counted else 0
