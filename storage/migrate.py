"""Apply Alembic migrations in-process, on SQLite and PostgreSQL alike.

Each domain keeps its own migration branch (`branch_labels`), so features can add tables
independently; `upgrade heads` applies all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(MIGRATIONS / "versions"))
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
