"""Wilson ranking, the "not good enough" flag and the popcorn award."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cogs.weekly.ranking import ItemInput, rank, wilson_lower


def item(n: int, counts: tuple[int, int, int, int], title: str = "") -> ItemInput:
    return ItemInput(n, n, title or f"item {n}", None, counts)


def test_wilson_known_values() -> None:
    # Reference values of the 95 % Wilson lower bound.
    assert wilson_lower(0, 0) == 0.0
    assert wilson_lower(9, 10) == pytest.approx(0.5958, abs=1e-4)
    assert wilson_lower(900, 1000) == pytest.approx(0.8798, abs=1e-4)
    assert wilson_lower(1, 1) == pytest.approx(0.2065, abs=1e-4)
    with pytest.raises(ValueError):
        wilson_lower(3, 2)


@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_lies_below_the_share(case: tuple[int, int]) -> None:
    k, n = case
    lb = wilson_lower(k, n)
    assert 0.0 <= lb <= k / n + 1e-12
    if k < n:  # one more success never lowers the bound
        assert wilson_lower(k + 1, n) >= lb


@given(st.integers(1, 200), st.integers(1, 50), st.integers(2, 20))
def test_more_evidence_raises_the_bound(k: int, extra: int, factor: int) -> None:
    n = k + extra
    # Same share, more ballots: more certainty, a higher lower bound.
    assert wilson_lower(k * factor, n * factor) > wilson_lower(k, n)
    assert not math.isnan(wilson_lower(k, n))


def test_many_ballots_beat_a_few_perfect_ones() -> None:
    few = item(1, (3, 0, 0, 50))  # 3 of 3 who tried love it
    many = item(2, (850, 100, 50, 10))  # 85 % of 1000
    result = rank([few, many], threshold_percent=30, min_ballots=10)
    assert [r.item_id for r in result.ranked] == [2, 1]
    assert result.award is not None and result.award.item_id == 2


def test_untried_ballots_do_not_count_against_an_item() -> None:
    a = item(1, (80, 20, 0, 900))
    b = item(2, (80, 20, 0, 0))
    ranked = rank([a, b], threshold_percent=30, min_ballots=10).ranked
    assert ranked[0].score == ranked[1].score
    assert ranked[0].love_share == 0.8


def test_not_good_enough_threshold_is_a_share_of_those_who_tried() -> None:
    a = item(1, (40, 30, 30, 100))  # 30 % bad among tried
    b = item(2, (50, 21, 29, 0))  # 29 %
    c = item(3, (0, 0, 0, 10))  # nobody tried
    flagged = rank([a, b, c], threshold_percent=30, min_ballots=1).not_good_enough
    assert [r.item_id for r in flagged] == [1]
    flagged = rank([a, b, c], threshold_percent=29, min_ballots=1).not_good_enough
    assert [r.item_id for r in flagged] == [1, 2]


def test_popcorn_award_needs_enough_ballots_on_the_top_item() -> None:
    # 9 fans tried the top item (5 more had not): one short of the minimum.
    short = rank(
        [item(1, (8, 1, 0, 5)), item(2, (1, 5, 5, 0))], threshold_percent=30, min_ballots=10
    )
    assert short.ranked[0].item_id == 1 and short.award is None
    enough = rank([item(1, (9, 1, 0, 0))], threshold_percent=30, min_ballots=10)
    assert enough.award is not None and enough.award.item_id == 1
    # Nobody loved anything: no award however many ballots.
    assert rank([item(1, (0, 50, 50, 0))], threshold_percent=30, min_ballots=1).award is None
    assert rank([], threshold_percent=30, min_ballots=1).award is None


@given(
    st.lists(
        st.tuples(
            st.integers(0, 300), st.integers(0, 300), st.integers(0, 300), st.integers(0, 50)
        ),
        min_size=1,
        max_size=12,
    ),
    st.integers(1, 100),
    st.integers(1, 100),
)
def test_rank_invariants(
    counts: list[tuple[int, int, int, int]], threshold: int, min_ballots: int
) -> None:
    items = [item(i, c) for i, c in enumerate(counts)]
    result = rank(items, threshold_percent=threshold, min_ballots=min_ballots)
    assert sorted(r.item_id for r in result.ranked) == list(range(len(items)))
    scores = [r.score for r in result.ranked]
    assert scores == sorted(scores, reverse=True)
    flagged = {r.item_id for r in result.not_good_enough}
    for r in result.ranked:
        assert (r.item_id in flagged) == bool(r.tried and 100 * r.counts[2] >= threshold * r.tried)
    unflagged = [r for r in result.ranked if r.item_id not in flagged]
    if result.award is not None:
        # The best item not listed as "not good enough", never one that is.
        assert result.award == unflagged[0] and result.award.item_id not in flagged
        assert result.award.tried >= min_ballots and result.award.counts[0] > 0
    else:
        assert not unflagged or unflagged[0].tried < min_ballots or not unflagged[0].counts[0]


def test_an_item_found_not_good_enough_gets_no_popcorn_award() -> None:
    # Ranked first (60 % loved it) but 40 % found it not good enough: the award goes to the
    # next item, which nobody found wanting.
    split = item(1, (60, 0, 40, 0))
    liked = item(2, (50, 45, 5, 0))
    result = rank([split, liked], threshold_percent=30, min_ballots=10)
    assert [r.item_id for r in result.ranked] == [1, 2]
    assert [r.item_id for r in result.not_good_enough] == [1]
    assert result.award is not None and result.award.item_id == 2
    # Only flagged items: no award at all.
    alone = rank([split], threshold_percent=30, min_ballots=10)
    assert alone.award is None and [r.item_id for r in alone.not_good_enough] == [1]
