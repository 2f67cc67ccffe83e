"""The kept board pages exactly as filtering and slicing the ranking would."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.web.site.board import STATUSES, _flatten
from storage.suggestions.posts import BoardEntry, BoardSignature

SIG = BoardSignature(0, 0, 0, "")

entries = st.lists(
    st.tuples(
        st.sampled_from(STATUSES),
        st.sampled_from([None, "UI", "相机", "ui"]),
        st.integers(0, 5),
        st.floats(0, 10, allow_nan=False),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(
    entries,
    st.sampled_from(["heat", "votes", "newest"]),
    st.sampled_from([None, *STATUSES, "shipped"]),
    st.sampled_from([None, "UI", "相机", "ui", "nope"]),
    st.integers(0, 70),
    st.integers(1, 10),
)
def test_page_is_the_filtered_slice(
    raw: list[tuple[str, str | None, int, float]],
    sort: str,
    status: str | None,
    category: str | None,
    offset: int,
    limit: int,
) -> None:
    board = [(BoardEntry(i + 1, s, c, v), h) for i, (s, c, v, h) in enumerate(raw)]
    board.sort(key=lambda p: (-p[1], -p[0].votes, -p[0].id))  # as SuggestionService.board
    snap = _flatten(board, SIG, 7, "v")
    if sort == "votes":
        ordered = sorted(board, key=lambda p: (-p[0].votes, -p[0].id))
    elif sort == "newest":
        ordered = sorted(board, key=lambda p: -p[0].id)
    else:
        ordered = board
    matching = [
        (e.id, h)
        for e, h in ordered
        if (status is None or e.status == status) and (category is None or e.category == category)
    ]
    page, total = snap.page(sort, status, category, offset, limit)
    assert page == matching[offset : offset + limit]
    assert total == len(matching)
