"""`fanloop run` as its own process, for the multi-process shard test.

Usage: shard_child.py SCHEMA
The real command line (`bot.cli.main(["run"])`, every setting from the FANLOOP_* variables the
test sets: the shards, the database, the local Discord server), with one difference: the
database engine gets the PostgreSQL test schema as its search path.
"""

from __future__ import annotations

import sys
from typing import Any

import bot.core.app
from bot.cli import main
from storage.engine import create_engine


def run(schema: str) -> int:
    def engine(url: str, **kwargs: Any) -> object:
        return create_engine(url, schema=schema, **kwargs)

    bot.core.app.create_engine = engine  # type: ignore[assignment]
    return main(["run"])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1]))
