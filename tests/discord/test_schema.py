"""The slash-command schema synced to Discord: a golden file, localizations, limits, autocomplete.

The golden file holds what `tree.sync()` sends for the cogs listed in GOLDEN_COGS, so a change
to any command's signature shows up in review. After an intended change, regenerate it with

    FANLOOP_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/discord/test_schema.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bot.core.app import App
from bot.core.clock import FakeClock
from config.settings import FanloopSettings
from devtools.servers.discord_api import APP_ID, FakeDiscord
from tests.discord.conftest import FAST, Bot, StartBot

GOLDEN = Path(__file__).parent / "golden" / "commands.json"
GOLDEN_COGS = [
    "cogs.meta",
    "cogs.community",
    "cogs.suggestions",
    "cogs.moderation",
    "cogs.accounts",
    "cogs.drops",
]


def dump(commands: list[dict[str, Any]]) -> str:
    return json.dumps(commands, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.fixture
async def synced(fake: FakeDiscord, tmp_path: Path, clock: FakeClock) -> list[dict[str, Any]]:
    """What the adapter syncs for exactly the golden cogs (whatever the defaults are now)."""
    settings = FanloopSettings(
        data_dir=tmp_path / "golden",
        cogs=GOLDEN_COGS,
        discord_token="golden.token",
        discord_api_base=fake.api_base,
        discord_gateway_url=fake.gateway_url,
    )
    app = await App.create(settings, clock)
    bot = Bot(app, fake, FAST)
    try:
        await bot.start()
    finally:
        await bot.close()
        await app.close()
    (put,) = fake.calls_to("PUT", rf"/applications/{APP_ID}/commands")
    assert put.status == 200, "Discord's rules refused the schema"
    return list(put.json)


async def test_synced_schema_matches_the_golden_file(synced: list[dict[str, Any]]) -> None:
    text = dump(synced)
    if os.environ.get("FANLOOP_REGEN_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.is_file(), "no golden file: run with FANLOOP_REGEN_GOLDEN=1"
    assert text == GOLDEN.read_text(encoding="utf-8"), (
        "the synced command schema changed; if intended, regenerate the golden file "
        "(FANLOOP_REGEN_GOLDEN=1 pytest tests/discord/test_schema.py)"
    )


def by_name(commands: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(c for c in commands if c["name"] == name)


async def test_schema_is_localized_and_typed(synced: list[dict[str, Any]]) -> None:
    vote = by_name(synced, "vote")
    assert vote["name_localizations"] == {"zh-CN": "投票", "zh-TW": "投票"}
    assert vote["description"] == "Vote for a suggestion"
    assert set(vote["description_localizations"]) == {"zh-CN", "zh-TW"}
    (sid,) = vote["options"]
    # Suggestion ids are text with autocomplete: members can search by words.
    assert (sid["type"], sid["autocomplete"], sid["required"]) == (3, True, True)
    assert sid["name_localizations"] == {"zh-CN": "编号", "zh-TW": "編號"}
    top = by_name(synced, "top")
    by, category = top["options"]
    assert (category["name"], category["autocomplete"], category["required"]) == (
        "category",
        True,
        False,
    )
    assert [c["value"] for c in by["choices"]] == ["heat", "votes"]
    assert by["choices"][1]["name_localizations"] == {"zh-CN": "总票数", "zh-TW": "總票數"}
    status = by_name(synced, "status")
    choice = next(o for o in status["options"] if o["name"] == "status")
    # A catalog key <param>.<value> labels a choice: status.planned is "Planned".
    assert {c["value"]: c["name"] for c in choice["choices"]}["planned"] == "Planned"
    assert by_name(synced, "suggest").get("options", []) == []  # a form: the modal asks
    merge = by_name(synced, "merge")
    assert [o["name"] for o in merge["options"]] == ["duplicate", "original"]
    community = by_name(synced, "community")
    assert [(o["name"], o["type"]) for o in community["options"]] == [("code", 1)]
    assert all(c["contexts"] == [0] and c["integration_types"] == [0] for c in synced)


async def test_autocomplete_offers_suggestions(
    fake: FakeDiscord, start_bot: StartBot, app: App
) -> None:
    bot = await start_bot()
    alice = fake.add_member("Alice")
    for title in ("Dark mode for the app", "Offline maps", "Battery saver"):
        opened = await bot.slash(alice, "suggest")
        await bot.run(fake.submit(alice, opened.modal or {}, {"title": title}))
    newest = await bot.run(fake.autocomplete(alice, "vote", "id", ""))
    assert [c["value"] for c in newest.choices or []] == ["3", "2", "1"]
    words = await bot.run(fake.autocomplete(alice, "vote", "id", "maps"))
    assert (words.choices or [])[0] == {"name": "#2 Offline maps (👍 1)", "value": "2"}
    number = await bot.run(fake.autocomplete(alice, "merge", "original", "#3"))
    assert (number.choices or [])[0]["value"] == "3"
