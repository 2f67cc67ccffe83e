"""Set-based inserts: many rows in one statement whose parameters are a handful of values.

`INSERT … SELECT` from the rows passed as one JSON document (SQLite, `json_each`) or as one
array per column (PostgreSQL, `unnest`). Either way a statement costs a few parameters however
many rows it carries: no per-row binding or type processing in Python, which is what an
`executemany` of thousands of rows spends its time on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine


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
    columns every row shares. Values are ints, strings or None. A unique violation raises as
    any INSERT would, unless `ignore_conflicts` (ON CONFLICT DO NOTHING)."""
    if not rows:
        return
    constants = dict(constants or {})
    names = [name for name, _ in columns]
    params: dict[str, Any] = {}
    if conn.dialect.name == "postgresql":
        source = "unnest({}) AS src({})".format(
            ", ".join(f"CAST(:c{i} AS {kind}[])" for i, (_, kind) in enumerate(columns)),
            ", ".join(f"c{i}" for i in range(len(columns))),
        )
        for i, values in enumerate(zip(*rows, strict=True)):
            params[f"c{i}"] = list(values)
        picks = [f"src.c{i}" for i in range(len(columns))]
    else:
        source = "json_each(:rows) AS src"
        params["rows"] = json.dumps(rows, separators=(",", ":"), ensure_ascii=False)
        picks = [f"src.value ->> {i}" for i in range(len(columns))]
    binds = []
    for name, const in constants.items():
        names.append(name)
        picks.append(f":k_{name}")
        params[f"k_{name}"] = const.value
        if const.type_ is not None:
            binds.append(bindparam(f"k_{name}", type_=const.type_))
    # "WHERE true": SQLite reads ON CONFLICT after a bare SELECT … FROM as a join's ON.
    sql = (
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(picks)} FROM {source}"
        f" WHERE true{' ON CONFLICT DO NOTHING' if ignore_conflicts else ''}"
    )
    await conn.execute(text(sql).bindparams(*binds), params)
