"""Bulk inserts without SQLAlchemy's per-row work (dicts, bind and type processing per value),
which is what an `executemany` of thousands of rows spends its time on.

PostgreSQL: one statement, `INSERT … SELECT … FROM unnest(…)` with one array parameter per
column. SQLite: the driver's own `executemany` of plain tuples, bound in C. (A JSON document
read with `json_each` was tried for SQLite: it parses each row's JSON once per column and came
out about twice as slow.) Columns every row shares are bound once, with their column type.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def encode_json(value: Any) -> str:
    """The text a "JSON" column of `insert_rows` stores for `value`."""
    return _ENCODE(value)


class EncodedJSON(str):
    """A "JSON" column's value already encoded (`encode_json`): stored as it is."""

    __slots__ = ()


def _encode(value: Any) -> str:
    return value if type(value) is EncodedJSON else _ENCODE(value)


@dataclass(frozen=True)
class Constant:
    """A value every row gets (bound once), with the column type that stores it."""

    value: Any
    type_: TypeEngine[Any] | None = None


async def insert_rows(
    conn: AsyncConnection,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    *,
    constants: Mapping[str, Constant] | None = None,
    ignore_conflicts: bool = False,
) -> None:
    """Insert `rows` (tuples in the order of `columns`, given as (name, PostgreSQL array
    element type) pairs, e.g. ("account_id", "INTEGER")) into `table`, with `constants` for the
    columns every row shares. Values are ints, strings or None; a column of type "JSON" takes
    any JSON value and stores its text (for a JSON-as-text column), or that text already made
    (`EncodedJSON`). A unique violation raises
    as any INSERT would, unless `ignore_conflicts` (ON CONFLICT DO NOTHING)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        await _insert_unnest(conn, table, columns, rows, constants or {}, ignore_conflicts)
    else:
        await _insert_many(conn, table, columns, rows, constants or {}, ignore_conflicts)


async def _insert_unnest(
    conn: AsyncConnection,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    constants: Mapping[str, Constant],
    ignore_conflicts: bool,
) -> None:
    """PostgreSQL: one array per column, `INSERT … SELECT … FROM unnest(…)`."""
    names = [name for name, _ in columns]
    params: dict[str, Any] = {}
    source = "unnest({}) AS src({})".format(
        ", ".join(
            f"CAST(:c{i} AS {'TEXT' if kind == 'JSON' else kind}[])"
            for i, (_, kind) in enumerate(columns)
        ),
        ", ".join(f"c{i}" for i in range(len(columns))),
    )
    for i, values in enumerate(zip(*rows, strict=True)):
        params[f"c{i}"] = [_encode(v) for v in values] if columns[i][1] == "JSON" else list(values)
    picks = [f"src.c{i}" for i in range(len(columns))]
    binds = []
    for name, const in constants.items():
        names.append(name)
        picks.append(f":k_{name}")
        params[f"k_{name}"] = const.value
        if const.type_ is not None:
            binds.append(bindparam(f"k_{name}", type_=const.type_))
    sql = (
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(picks)} FROM {source}"
        f"{' ON CONFLICT DO NOTHING' if ignore_conflicts else ''}"
    )
    await conn.execute(text(sql).bindparams(*binds), params)


async def _insert_many(
    conn: AsyncConnection,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    constants: Mapping[str, Constant],
    ignore_conflicts: bool,
) -> None:
    """SQLite: one prepared INSERT run for every row by the driver (`executemany`), the rows
    bound in C; only JSON values and the constants are prepared here, once."""
    names = [name for name, _ in columns] + list(constants)
    tail: tuple[Any, ...] = ()
    for const in constants.values():
        value = const.value
        if const.type_ is not None:
            # The dialect's own type (SQLite's DATETIME renders the text it stores): the
            # generic type would hand the driver a datetime to adapt again for every row.
            process = const.type_.dialect_impl(conn.dialect).bind_processor(conn.dialect)
            value = process(value) if process is not None else value
        tail += (value,)
    json_at = [i for i, (_, kind) in enumerate(columns) if kind == "JSON"]
    if json_at:
        prepared = []
        for row in rows:
            values = list(row)
            for i in json_at:
                values[i] = _encode(values[i])
            prepared.append((*values, *tail))
    else:
        prepared = [(*row, *tail) for row in rows]
    sql = (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
        f"{' ON CONFLICT DO NOTHING' if ignore_conflicts else ''}"
    )
    await conn.exec_driver_sql(sql, prepared)
