"""The web settings: off by default, checked addresses, and the community settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.app import App
from bot.core.commands import Role
from bot.core.errors import UserError
from config.settings import ConfigError, load_settings
from tests.helpers import member


def test_web_is_off_by_default_and_addresses_are_checked(tmp_path: Path) -> None:
    settings = load_settings(None, data_dir=tmp_path)
    assert (settings.web_port, settings.web_host, settings.web_base_url) == (0, "127.0.0.1", None)
    on = load_settings(None, data_dir=tmp_path, web_port=8080, web_base_url="https://fans.example/")
    assert on.web_base_url == "https://fans.example"
    with pytest.raises(ConfigError, match="web_base_url"):
        load_settings(None, data_dir=tmp_path, web_base_url="fans.example")
    with pytest.raises(ConfigError, match="web_host"):
        load_settings(None, data_dir=tmp_path, web_host="http://0.0.0.0")
    with pytest.raises(ConfigError, match="web_port"):
        load_settings(None, data_dir=tmp_path, web_port=70000)


async def test_community_settings_web_and_names(app: App) -> None:
    owner = await member(app, "Olive", Role.OWNER)
    cid = owner.community.id
    assert await app.community_settings.get(cid, "web") == "off"
    assert await app.community_settings.get(cid, "web_names") is False
    with pytest.raises(UserError):
        await app.community_settings.set(cid, "web", "public")
    first = await app.community_settings.set(cid, "web", "private")
    second = await app.community_settings.set(cid, "web", "private")
    assert first.startswith("private:") and second.startswith("private:") and first != second
    assert await app.community_settings.set(cid, "web_names", "on") is True
