"""Small SQL helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


async def insert_ignore(
    conn: AsyncConnection, table: Table, rows: list[dict[str, Any]] | dict[str, Any]
) -> int:
    """INSERT … ON CONFLICT DO NOTHING; returns how many rows were inserted."""
    if isinstance(rows, dict):
        rows = [rows]
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        stmt: Any = postgresql.insert(table).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    if len(rows) == 1:
        res = await conn.execute(stmt.values(**rows[0]))
        return int(res.rowcount or 0)
    # One batched statement (SQLAlchemy's insertmanyvalues); RETURNING counts the rows that were
    # inserted, since the row count of a batched INSERT is not reliable on every driver.
    keys = set(rows[0])
    if any(set(row) != keys for row in rows):
        raise ValueError("insert_ignore: every row must set the same columns")
    res = await conn.execute(stmt.returning(*table.primary_key.columns), rows)
    return len(res.all())


def new_id(result: CursorResult[Any]) -> int:
    """The primary key an INSERT of one row created."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])
