"""The operations endpoints of an App, served in this process on a free loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.core.app import App
from config.settings import DEFAULT_COGS, FanloopSettings
from tests.ops.scrape import serving


@pytest.fixture
def settings(tmp_path: Path) -> FanloopSettings:
    cogs = [*DEFAULT_COGS, *(["cogs.drops"] if "cogs.drops" not in DEFAULT_COGS else [])]
    return FanloopSettings(data_dir=tmp_path / "data", cogs=cogs)


@pytest_asyncio.fixture
async def ops(app: App) -> AsyncIterator[str]:
    async with serving(app) as base:
        yield base
