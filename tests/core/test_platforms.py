"""`fanloop run` finds each configured platform by name, through the adapter's `Platform`."""

from __future__ import annotations

import pytest

from bot.platforms import load_platform


@pytest.mark.parametrize("name", ["discord", "telegram"])
def test_each_adapter_package_exposes_its_platform(name: str) -> None:
    assert load_platform(name).name == name


def test_an_unknown_platform_is_named_in_the_error() -> None:
    with pytest.raises(LookupError, match="matrix"):
        load_platform("matrix")
