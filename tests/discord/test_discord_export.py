"""An owner's CSV export through Discord: an ephemeral answer with the file attached; a fan is
refused."""

from __future__ import annotations

from devtools.servers.discord_api import FakeDiscord
from tests.discord.conftest import Bot, is_ephemeral, text_of


async def test_export_is_an_attachment_for_the_owner_only(bot: Bot, fake: FakeDiscord) -> None:
    alice = fake.add_member("Alice")
    await bot.run(
        fake.submit(
            alice,
            (await bot.slash(alice, "suggest")).modal or {},
            {"title": "Dark mode for the app", "details": "too bright at night"},
        )
    )
    answer = await bot.slash(fake.owner, "export suggestions")
    assert is_ephemeral(answer.message)
    assert "Exported 1 suggestions" in text_of(answer.message)
    (call,) = [c for c in fake.calls if c.path.endswith("/callback") and c.files]
    ((name, data),) = call.files.values()
    assert name.startswith("suggestions-") and name.endswith(".csv")
    assert data.startswith(b"\xef\xbb\xbfid,title,")
    assert b"Dark mode for the app" in data
    fan = await bot.slash(alice, "export votes")
    assert "owner" in text_of(fan.message).lower() and not [
        c for c in fake.calls if c.path.endswith("/callback") and c.files and c is not call
    ]
