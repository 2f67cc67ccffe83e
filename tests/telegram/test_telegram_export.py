"""An owner's CSV export through Telegram: sent as a document."""

from __future__ import annotations

from tests.telegram.world import GROUP, OWNER, World


async def test_telegram_owner_gets_a_document(world: World) -> None:
    await world.say(OWNER, '/suggest "Dark mode" "Too bright"')
    await world.say(OWNER, "/export suggestions")
    (call,) = world.fake.calls_to("sendDocument")
    assert call.params["document"]["file_name"].startswith("suggestions-")
    assert call.params["document"]["file_name"].endswith(".csv")
    assert call.params["chat_id"] == str(OWNER["id"])  # privately: not in the group
    assert world.fake.sent(GROUP)[0]["text"].startswith("💡 New suggestion")
