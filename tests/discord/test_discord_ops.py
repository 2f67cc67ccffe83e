"""The Discord adapter's part of the operations endpoints: /healthz follows the gateway session,
/metrics counts a press and how soon Discord got its acknowledgement (SQLite and PostgreSQL)."""

from __future__ import annotations

from bot.core.app import App
from devtools.servers.discord_api import FakeDiscord
from tests.discord.conftest import Bot, buttons, eventually, suggest, text_of
from tests.ops.scrape import health, scrape, serving


async def test_health_and_acknowledgements_on_discord(
    bot: Bot, fake: FakeDiscord, app: App
) -> None:
    async with serving(app, ["discord"]) as base:

        async def healthy() -> bool:
            return (await health(base))[0] == 200

        await eventually(healthy, within=10)
        assert (await health(base))[1]["platforms"] == {"discord": "connected"}

        card = await suggest(bot, fake.add_member("Alice"), "Dark mode")
        before = await scrape(base)
        answer = await bot.run(
            fake.press(fake.add_member("Bob"), card, buttons(card)[0]["custom_id"])
        )
        assert "Votes now: 2" in text_of(answer.message)
        after = await scrape(base)

        def moved(name: str, **labels: str) -> float:
            labels["platform"] = "discord"
            return after.get(name, **labels) - before.get(name, **labels)

        assert moved("fanloop_interactions_total", kind="button", outcome="ok") == 1
        assert moved("fanloop_answer_latency_seconds_count") == 1  # its one response
        assert 0 < moved("fanloop_answer_latency_seconds_sum") < 3  # within Discord's deadline
        assert moved("fanloop_answers_missed_total") == 0

        await bot.close()
        status, body = await health(base)
        assert (status, body["platforms"]) == (503, {"discord": "disconnected"})
