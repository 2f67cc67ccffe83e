"""The participation cog on top of the default cogs, whether or not it is in the defaults yet."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import DEFAULT_COGS, FanloopSettings


@pytest.fixture
def settings(tmp_path: Path) -> FanloopSettings:
    cogs = list(DEFAULT_COGS)
    if "cogs.participation" not in cogs:
        cogs.append("cogs.participation")
    return FanloopSettings(data_dir=tmp_path / "data", cogs=cogs)
