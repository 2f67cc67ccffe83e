"""Apply Alembic migrations in-process, on SQLite and PostgreSQL alike.

Each domain keeps its own migration branch (`branch_labels`), so features can add tables
independently; `upgrade heads` applies all of them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

STORAGE = Path(__file__).parent
MIGRATIONS = STORAGE / "migrations"
# Each domain package keeps its revisions beside its schema (the suggestion tables are still in
# the core branch, where they were first created: a revision id never moves between branches).
DOMAINS = ("core", "platform", "drops", "weekly", "participation")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option(
        "version_locations", os.pathsep.join(str(STORAGE / d / "migrations") for d in DOMAINS)
    )
    return cfg


def _upgrade(sync_conn: Any, target: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, target)


async def upgrade(engine: AsyncEngine, target: str = "heads") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, target)


def _revision(sync_conn: Any, message: str, autogenerate: bool) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    command.revision(cfg, message=message, autogenerate=autogenerate)


async def new_revision(engine: AsyncEngine, message: str) -> None:
    """Developer helper: autogenerate a revision against an up-to-date database."""
    async with engine.begin() as conn:
        await conn.run_sync(_revision, message, True)
