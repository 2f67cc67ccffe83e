"""`fanloop run` (bot.cli.main), configured by its FANLOOP_* environment, on a PostgreSQL test
schema: the one difference from the command is that the engine's search path names the schema.

Usage: run_child.py SCHEMA
"""

from __future__ import annotations

import sys
from typing import Any

import bot.core.app
from bot.cli import main
from storage.engine import create_engine


def run(schema: str) -> int:
    def in_schema(url: str, **kwargs: Any) -> Any:
        return create_engine(url, schema=schema, **kwargs)

    bot.core.app.create_engine = in_schema  # type: ignore[assignment]
    return main(["run"])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1]))
