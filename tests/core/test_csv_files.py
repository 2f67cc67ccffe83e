"""The one CSV writer of exports: a byte-order mark first, so Excel reads Chinese as Chinese, and
whatever text goes in comes back out of a CSV reader unchanged."""

from __future__ import annotations

import codecs
import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from bot.core.csv_files import csv_bytes


def test_starts_with_the_byte_order_mark_and_keeps_chinese() -> None:
    data = csv_bytes(("name", "title"), [("小明", "深色模式, 夜间")])
    assert data.startswith(codecs.BOM_UTF8)
    assert data.decode("utf-8-sig") == 'name,title\r\n小明,"深色模式, 夜间"\r\n'


@given(st.lists(st.lists(st.text(), min_size=2, max_size=2), max_size=5))
def test_rows_read_back_unchanged(rows: list[list[str]]) -> None:
    data = csv_bytes(("a", "b"), rows)
    back = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert back == [["a", "b"], *rows]
