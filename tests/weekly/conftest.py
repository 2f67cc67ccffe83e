"""The weekly loop under test, on both databases, with the cogs it works with (suggestions,
accounts, the community and meta commands). The participation and drops cogs are left out:
their due work would run on every simulated hour without touching what these tests check;
the weekly loop together with participation is tested in tests/participation."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import DEFAULT_COGS, FanloopSettings

LEFT_OUT = {"cogs.weekly", "cogs.participation", "cogs.drops"}
WEEKLY_COGS = [c for c in DEFAULT_COGS if c not in LEFT_OUT] + ["cogs.weekly"]


@pytest.fixture
def settings(tmp_path: Path) -> FanloopSettings:
    return FanloopSettings(data_dir=tmp_path / "data", cogs=WEEKLY_COGS)
