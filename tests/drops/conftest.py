"""Drops tests run with the drops cog loaded (whatever the default cog list says)."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import DEFAULT_COGS, FanloopSettings


@pytest.fixture
def settings(tmp_path: Path) -> FanloopSettings:
    cogs = [*DEFAULT_COGS, *(["cogs.drops"] if "cogs.drops" not in DEFAULT_COGS else [])]
    return FanloopSettings(data_dir=tmp_path / "data", cogs=cogs)
