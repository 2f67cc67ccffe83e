"""CSV files that members download (exports): UTF-8 with a byte-order mark and CRLF line ends,
so spreadsheet programs (Excel above all) read Chinese text right instead of as mojibake."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

ENCODING = "utf-8-sig"  # writes the byte-order mark first


def csv_bytes(header: Sequence[object], rows: Iterable[Sequence[object]]) -> bytes:
    """A header line and rows, as the bytes of a file to attach."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(ENCODING)
