"""The weekly loop under test: the default cogs plus `cogs.weekly`, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import DEFAULT_COGS, FanloopSettings

WEEKLY_COGS = [c for c in DEFAULT_COGS if c != "cogs.weekly"] + ["cogs.weekly"]


@pytest.fixture
def settings(tmp_path: Path) -> FanloopSettings:
    return FanloopSettings(data_dir=tmp_path / "data", cogs=WEEKLY_COGS)
