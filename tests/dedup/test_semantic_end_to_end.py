"""With the `semantic` extra's model configured, the community meets its duplicates across
languages where it meets them at all: the "is it one of these?" step of `/suggest` on the
console, `/search`, and the admins' daily digest find an English request from its Chinese
wording and the reverse. The real model (USE multilingual), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from cogs.suggestions.similarity.semantic import DEFAULT_MODEL, ModelError, load_embedder
from config.settings import FanloopSettings
from tests.weekly.weekly_helpers import member, outbox, suggestion, weekly


def _installed() -> bool:
    try:
        load_embedder(DEFAULT_MODEL)
    except ModelError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _installed(), reason="the semantic extra is not installed")

ENGLISH = "Dark mode for the settings page"
CHINESE = "我希望设置页面支持深色模式"
OTHERS = ["Export my votes as a spreadsheet", "支持多个账号同时登录", "A calendar view of releases"]


@pytest.fixture
def settings(tmp_path: Path) -> FanloopSettings:
    return FanloopSettings(data_dir=tmp_path / "data", dedup_model=DEFAULT_MODEL)


async def say(console: ConsoleAdapter, *lines: str) -> str:
    out = []
    for line in lines:
        out.extend(await console.handle_line(line))
    return "\n".join(e.reply.plain_text() for e in out)


@pytest.mark.parametrize(("first", "second"), [(ENGLISH, CHINESE), (CHINESE, ENGLISH)])
async def test_a_translation_is_offered_at_suggest_and_found_by_search(
    console: ConsoleAdapter, first: str, second: str
) -> None:
    await say(console, "/as alice fan", *(f'/suggest "{t}"' for t in [*OTHERS, first]))
    offered = await say(console, "/as bob fan", f'/suggest "{second}"')
    assert "Is it one of these?" in offered and f"#4 {first}" in offered
    assert "New suggestion" not in offered  # kept as a draft while Bob decides
    found = await say(console, f"/search {second}")
    listed = [line for line in found.splitlines() if "#" in line]
    assert listed and f"#4 {first}" in listed[0], found


async def test_the_digest_lists_a_translation_as_a_likely_duplicate(
    app: App, console: ConsoleAdapter, clock: FakeClock
) -> None:
    boss = await member(app, "boss", Role.ADMIN)
    cid = boss.community.id
    await weekly(app).digest_subscribers.subscribe(cid, boss.member.account_id, True, clock.now())
    clock.set(datetime(2026, 11, 21, 8, 0, tzinfo=UTC))
    await say(console, "/as alice fan", *(f'/suggest "{t}"' for t in [*OTHERS, ENGLISH]))
    await suggestion(app, await member(app, "bob"), CHINESE)  # posted anyway
    while clock.now() < datetime(2026, 11, 21, 9, 30, tzinfo=UTC):
        clock.advance(timedelta(minutes=30))
        await app.run_due()
    (digest,) = [q for q in await outbox(app) if q.kind == "member"]
    body = digest.reply.text
    duplicates = body.split("Likely duplicates", 1)[1].splitlines()
    assert any("#5" in x and "#4" in x for x in duplicates), body
