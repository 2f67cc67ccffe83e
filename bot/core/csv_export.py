"""CSV files for owners and admins: UTF-8 with a byte-order mark (so spreadsheet programs read
Chinese right), CRLF line ends, and text that a spreadsheet would run as a formula (a fan's title
starting with `=`) kept as text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

#: What makes a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig")
