"""The one CSV writer of exports: a byte-order mark first, so Excel reads Chinese as Chinese;
whatever text goes in comes back out of a CSV reader unchanged, except that a text a
spreadsheet would run as a formula comes back as that text behind a `'`."""

from __future__ import annotations

import codecs
import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from bot.core.csv_files import FORMULA_START, csv_bytes


def test_starts_with_the_byte_order_mark_and_keeps_chinese() -> None:
    data = csv_bytes(("name", "title"), [("小明", "深色模式, 夜间")])
    assert data.startswith(codecs.BOM_UTF8)
    assert data.decode("utf-8-sig") == 'name,title\r\n小明,"深色模式, 夜间"\r\n'


def _read(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# Texts that start as a formula would, among any others.
CELLS = st.one_of(st.text(), st.tuples(st.sampled_from(FORMULA_START), st.text()).map("".join))


@given(st.lists(st.lists(CELLS, min_size=2, max_size=2), max_size=5))
def test_rows_read_back_unchanged_but_never_as_a_formula(rows: list[list[str]]) -> None:
    back = _read(csv_bytes(("a", "b"), rows))
    assert back[0] == ["a", "b"]
    for sent, got in zip(rows, back[1:], strict=True):
        for text, cell in zip(sent, got, strict=True):
            if text.startswith(FORMULA_START) and cell != text:
                assert cell == "'" + text  # kept as text, nothing lost
            else:
                assert cell == text
            assert not cell.startswith(FORMULA_START) or float(cell) == float(text)


def test_formulas_are_kept_as_text_and_signed_numbers_stay_numbers() -> None:
    row = ['=HYPERLINK("http://x")', "@SUM(A1)", "-2+3", "+cmd", "-0.2500", "+3", "-.5", 7]
    assert _read(csv_bytes(["h"] * len(row), [row]))[1] == [
        '\'=HYPERLINK("http://x")',
        "'@SUM(A1)",
        "'-2+3",
        "'+cmd",
        "-0.2500",
        "+3",
        "-.5",
        "7",
    ]
