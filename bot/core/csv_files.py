"""CSV files that members download (exports): UTF-8 with a byte-order mark and CRLF line ends,
so spreadsheet programs (Excel above all) read Chinese text right instead of as mojibake, and
no fan's text is ever read as a formula (CSV injection): a text cell that starts as a formula
would (`=`, `+`, `-`, `@`, a tab, a carriage return; a signed number aside) is kept as text
with a leading `'`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

ENCODING = "utf-8-sig"  # writes the byte-order mark first
#: What makes a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """`value`, with a text that a spreadsheet would run as a formula kept as text. A number
    written as text (`-0.25`, a signed share) stays a number."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _number(value):
        return "'" + value
    return value


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text[1:2].isdigit() or text[1:2] == "."


def csv_bytes(header: Sequence[object], rows: Iterable[Sequence[object]]) -> bytes:
    """A header line and rows, as the bytes of a file to attach."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(v) for v in header])
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return out.getvalue().encode(ENCODING)
