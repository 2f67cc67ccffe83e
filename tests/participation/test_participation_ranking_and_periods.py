"""Pure rules: leaderboard ties, periods in the community's time zone, the daily cap, aliases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from random import Random
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.core.participation import Contribution
from cogs.participation.ledger import Entry, counted_keys, plan, resolve_aliases
from cogs.participation.periods import period
from cogs.participation.ranking import rank
from cogs.participation.rules import DEFAULT_RULES, Rules
from storage.participation.ledger import Total

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def _t(account: int, points: int, minutes: int) -> Total:
    return Total(account, points, T0 + timedelta(minutes=minutes))


def test_same_points_share_a_rank_and_the_first_to_get_there_leads() -> None:
    ranked = rank([_t(1, 10, 5), _t(2, 30, 0), _t(3, 10, 1), _t(4, 5, 0), _t(5, 30, 9)])
    assert [(r.rank, r.account_id) for r in ranked] == [(1, 2), (1, 5), (3, 3), (3, 1), (5, 4)]


def test_members_without_points_are_not_ranked() -> None:
    assert rank([_t(1, 0, 0), _t(2, 3, 0)]) == rank([_t(2, 3, 0)])


def test_week_and_month_start_at_local_midnight() -> None:
    # Friday 2026-11-20 09:00 UTC is 17:00 in Shanghai: the week began Monday 16th, 00:00 local.
    week = period("week", T0, SHANGHAI)
    assert week.start == datetime(2026, 11, 15, 16, 0, tzinfo=UTC)
    assert week.end == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert (week.first_day, week.last_day) == (date(2026, 11, 16), date(2026, 11, 22))
    last = period("last_week", T0, SHANGHAI)
    assert last.end == week.start and last.first_day == date(2026, 11, 9)
    month = period("month", T0, SHANGHAI)
    assert month.start == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert month.end == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert period("last_month", T0, SHANGHAI).first_day == date(2026, 10, 1)
    everything = period("all", T0, SHANGHAI)
    assert everything.start is None and everything.contains(datetime(2001, 1, 1, tzinfo=UTC))


def test_a_sunday_evening_belongs_to_a_different_week_depending_on_the_zone() -> None:
    # Sunday 2026-11-22 20:00 in New York is Monday 09:00 in Shanghai.
    moment = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert period("week", moment, NEW_YORK).first_day == date(2026, 11, 16)
    assert period("week", moment, SHANGHAI).first_day == date(2026, 11, 23)


def test_periods_across_daylight_saving() -> None:
    # New York leaves daylight saving on Sunday 2026-11-01: November starts at 04:00 UTC
    # (EDT), December at 05:00 UTC (EST); the week of Nov 2 starts at 05:00 UTC.
    month = period("month", datetime(2026, 11, 10, tzinfo=UTC), NEW_YORK)
    assert month.start == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    assert month.end == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    week = period("week", datetime(2026, 11, 3, tzinfo=UTC), NEW_YORK)
    assert week.start == datetime(2026, 11, 2, 5, 0, tzinfo=UTC)
    assert week.end == datetime(2026, 11, 9, 5, 0, tzinfo=UTC)
    october_week = period("week", datetime(2026, 10, 30, tzinfo=UTC), NEW_YORK)
    # The week the clocks go back is an hour longer.
    assert october_week.start == datetime(2026, 10, 26, 4, 0, tzinfo=UTC)
    assert october_week.end == datetime(2026, 11, 2, 5, 0, tzinfo=UTC)


def test_aliases_follow_chains_and_linked_accounts_count_once() -> None:
    aliases = resolve_aliases([(1, 2), (2, 3), (7, 8)])
    assert aliases == {1: 3, 2: 3, 7: 8}
    entries = plan(
        [
            Contribution(1, "vote", T0 + timedelta(hours=1), "12"),
            Contribution(3, "vote", T0, "12"),
            Contribution(2, "vote", T0, "13"),
            Contribution(4, "unknown_kind", T0, "1"),
        ],
        DEFAULT_RULES,
        SHANGHAI,
        aliases,
    )
    assert set(entries) == {(3, "vote", "12"), (3, "vote", "13")}
    assert entries[(3, "vote", "12")].at == T0  # the earlier of the two
    assert entries[(3, "vote", "12")].day == date(2026, 11, 20)


contributions = st.lists(
    st.tuples(st.integers(1, 3), st.integers(0, 30), st.integers(0, 60 * 48)),
    max_size=60,
    unique_by=lambda x: (x[0], x[1]),
)


@given(items=contributions, cap=st.integers(0, 4), seed=st.randoms())
def test_the_daily_cap_counts_the_first_of_each_local_day_in_any_order(
    items: list[tuple[int, int, int]], cap: int, seed: Random
) -> None:
    rules = Rules({"vote": 1}, cap)
    cs = [Contribution(a, "vote", T0 + timedelta(minutes=m), str(ref)) for a, ref, m in items]
    entries = list(plan(cs, rules, SHANGHAI, {}).values())
    counted = counted_keys(entries, cap)
    shuffled = list(entries)
    seed.shuffle(shuffled)
    assert counted_keys(shuffled, cap) == counted
    groups: dict[tuple[int, date], list[Entry]] = {}
    for e in entries:
        groups.setdefault((e.account_id, e.day), []).append(e)
    for members in groups.values():
        members.sort(key=lambda e: (e.at, e.ref))
        earning = members if cap == 0 else members[:cap]
        assert {e.key for e in members} & counted == {e.key for e in earning}
