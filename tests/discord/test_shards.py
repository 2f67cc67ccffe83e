"""Sharding in one process: discord.py's AutoShardedClient runs the shards the settings name,
each guild's events come on the connection of the shard that owns it (the local server routes
them as Discord does), and buttons keep their fast path on every shard. The commands are synced
once per command schema, whichever process starts first."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.discord.acks import USER_AGENT
from bot.adapters.discord.sync import schema_hash
from bot.core.actions import ActionSpec
from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from bot.core.context import Context
from bot.core.reply import Button, Reply
from config.settings import FanloopSettings
from devtools.servers.discord_api import (
    APP_ID,
    GENERAL_ID,
    GUILD_ID,
    NEWS_ID,
    FakeDiscord,
    Guild,
)
from devtools.servers.discord_api.shards import (
    MAX_GUILDS_PER_SHARD,
    Session,
    session_for,
    shard_of,
)
from storage.platform.messages import MessagesRepo
from tests.discord.conftest import FAST, TOKEN, Bot, buttons, eventually, text_of

SHARDED = replace(FAST, identify_interval=0.0)
PUT_GLOBAL = rf"/applications/{APP_ID}/commands"


def shard_settings(settings: FanloopSettings, **changes: Any) -> FanloopSettings:
    return settings.model_copy(update=changes)


async def start_sharded(app: App, fake: FakeDiscord, *shards: int) -> Bot:
    bot = Bot(app, fake, SHARDED)
    await bot.start()
    await fake.wait_shards(*shards)
    return bot


async def suggest_in(bot: Bot, guild: Guild, user: dict[str, Any], title: str) -> dict[str, Any]:
    fake = bot.fake
    opened = await fake.run(fake.slash(user, "suggest", _guild=guild.id))
    assert opened.modal is not None
    posted = await fake.run(fake.submit(user, opened.modal, {"title": title}, guild=guild.id))
    return posted.message


def shards_identified(fake: FakeDiscord) -> list[list[int]]:
    return sorted(list(i.get("shard") or [0, 1]) for i in fake.identifies)


async def test_two_shards_in_one_process(
    fake: FakeDiscord, app: App, settings: FanloopSettings
) -> None:
    zero = fake.add_guild("Shard Zero Fans", shard=(0, 2))
    one = fake.guilds[GUILD_ID]
    assert shard_of(one.id, 2) == 1
    app.settings = shard_settings(settings, discord_shard_count=2)
    bot = await start_sharded(app, fake, 0, 1)
    try:
        assert shards_identified(fake) == [[0, 2], [1, 2]]
        assert fake.sessions[0].owns(zero.id) and fake.sessions[1].owns(one.id)
        assert not fake.calls_to("GET", "/gateway/bot")  # the count was given
        for guild in (zero, one):
            alice = fake.add_member("Alice", guild=guild.id)
            card = await suggest_in(bot, guild, alice, f"Dark mode for {guild.name}")
            assert card["guild_id"] == str(guild.id)
            # A press takes the raw fast path on either shard: answered on the adapter's own
            # connections, not through discord.py.
            bob = fake.add_member("Bob", guild=guild.id)
            (button,) = buttons(card)
            press = await fake.run(fake.press(bob, card, button["custom_id"]))
            assert "Votes now: 2" in text_of(press.message)
            (callback,) = fake.calls_to("POST", rf"/interactions/{press.id}/[^/]+/callback")
            assert callback.user_agent == USER_AGENT
        # Each guild became its own community, named by the GUILD_CREATE of its shard.
        spaces = {g.id: g.name for g in (zero, one)}
        for gid, name in spaces.items():
            cid, _ = await app.identity.community_for_space(
                "discord", str(gid), name, app.clock.now()
            )
            space = (await app.identity.spaces_of(cid))[0]
            assert space.name == name  # GUILD_CREATE came on the shard's connection
        assert len(fake.calls_to("PUT", PUT_GLOBAL)) == 1
    finally:
        await bot.close()


async def test_only_the_configured_shards_connect(
    fake: FakeDiscord, app: App, settings: FanloopSettings
) -> None:
    zero = fake.add_guild("Elsewhere", shard=(0, 2))
    app.settings = shard_settings(settings, discord_shard_count=2, discord_shard_ids=[1])
    bot = await start_sharded(app, fake, 1)
    try:
        assert shards_identified(fake) == [[1, 2]]
        answer = await bot.slash(fake.add_member("Alice"), "help")  # GUILD_ID: shard 1
        assert "/suggest" in text_of(answer.message)
        # Shard 0 runs elsewhere: Discord would hand its guild's events to that process.
        with pytest.raises(RuntimeError, match="no connected shard"):
            bob = fake.add_member("Bob", guild=zero.id)
            await fake.send(fake.slash(bob, "help", _guild=zero.id))
    finally:
        await bot.close()


async def test_a_dm_button_knows_its_server_on_a_shard_run_elsewhere(
    fake: FakeDiscord, app: App, settings: FanloopSettings
) -> None:
    # Direct messages come on shard 0; the server (GUILD_ID) is on shard 1, which another
    # process runs: this one has it in no cache and asks Discord.
    async def whoami(ctx: Context, args: list[str]) -> Reply:
        return Reply(text=f"role {ctx.member.role.name}", ephemeral=True)

    app.actions.add(ActionSpec("whoami", whoami, role=Role.OWNER))
    app.settings = shard_settings(settings, discord_shard_count=2, discord_shard_ids=[0])
    ctx = await app.context(
        platform="discord",
        space_id=str(GUILD_ID),
        space_name="Fan Club",
        user_id=fake.owner["id"],
        display_name="Owner",
        role=Role.FAN,
    )
    bot = await start_sharded(app, fake, 0)
    try:
        await app.outbox.notify(
            ctx.community.id,
            [ctx.member.account_id],
            lambda loc: Reply(text="Owners only", buttons=[Button("Who am I", "whoami:1")]),
        )
        dm_channel = fake.dm_channel(int(fake.owner["id"]))
        await fake.wait_for("POST", rf"/channels/{dm_channel}/messages")
        (dm,) = fake.channel_messages(dm_channel)
        refs = MessagesRepo(app.engine)

        async def remembered() -> bool:
            found = await refs.community_of("discord", str(dm_channel), dm["id"])
            return found == ctx.community.id

        await eventually(remembered)
        answer = await fake.run(fake.press(fake.owner, dm, "whoami:1"))
        assert text_of(answer.message) == "role OWNER"  # the server's owner, as Discord says
        assert fake.calls_to("GET", rf"/guilds/{GUILD_ID}")
    finally:
        await bot.close()


async def test_an_announcement_for_a_server_on_a_shard_run_elsewhere(
    fake: FakeDiscord, app: App, settings: FanloopSettings
) -> None:
    # Any process delivers the outbox: this one runs shard 0, the server is on shard 1.
    fake.guild.system_channel_id = NEWS_ID  # not the first channel: found, not guessed
    app.settings = shard_settings(settings, discord_shard_count=2, discord_shard_ids=[0])
    cid, _ = await app.identity.community_for_space(
        "discord", str(GUILD_ID), "Fan Club", app.clock.now()
    )
    bot = await start_sharded(app, fake, 0)
    try:
        await app.outbox.announce(cid, lambda loc: Reply(text="Release 2.0 is out"))
        (post,) = await fake.wait_for("POST", rf"/channels/{NEWS_ID}/messages")
        assert post.status == 200 and "Release 2.0 is out" in text_of(post.json)
        assert not fake.channel_messages(GENERAL_ID)
    finally:
        await bot.close()


async def test_auto_takes_the_shard_count_discord_recommends(
    fake: FakeDiscord, app: App, settings: FanloopSettings
) -> None:
    fake.recommended_shards = 2
    app.settings = shard_settings(settings, discord_shard_count="auto")
    bot = await start_sharded(app, fake, 0, 1)
    try:
        assert len(fake.calls_to("GET", "/gateway/bot")) == 1
        assert shards_identified(fake) == [[0, 2], [1, 2]]
        answer = await bot.slash(fake.add_member("Alice"), "help")
        assert answer.ack_type == 4
    finally:
        await bot.close()


async def test_gateway_bot_recommends_one_shard_per_thousand_guilds(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{fake.api_base}/gateway/bot") as r:
        body = await r.json()
    assert body["shards"] == 1 and body["url"] == fake.gateway_url
    assert body["session_start_limit"]["max_concurrency"] == 1
    for i in range(1000):
        fake.add_guild(f"g{i}")
    assert fake.gateway_bot()["shards"] == 2


@pytest.mark.parametrize(("shard", "code"), [([2, 2], 4010), ([0, 0], 4010), (["x", 1], 4010)])
async def test_an_invalid_shard_is_refused(fake: FakeDiscord, shard: list[Any], code: int) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(fake.gateway_url) as ws:
        await ws.receive_json()  # HELLO
        await ws.send_json({"op": 2, "d": {"token": TOKEN, "intents": 1, "shard": shard}})
        await ws.receive()
        assert ws.close_code == code
    assert fake.sessions == {}


async def test_too_many_guilds_on_one_shard_is_refused(fake: FakeDiscord) -> None:
    for i in range(MAX_GUILDS_PER_SHARD):  # with the first one, one guild too many
        fake.add_guild(f"g{i}")
    async with aiohttp.ClientSession() as http, http.ws_connect(fake.gateway_url) as ws:
        await ws.receive_json()  # HELLO
        await ws.send_json({"op": 2, "d": {"token": TOKEN, "intents": 1}})
        await ws.receive()
        assert ws.close_code == 4011  # sharding required
    assert fake.gateway_bot()["shards"] >= 2


class _OpenSocket:
    closed = False


@given(
    st.integers(min_value=1, max_value=16).flatmap(
        lambda count: st.tuples(
            st.just(count), st.sets(st.integers(min_value=0, max_value=count - 1))
        )
    ),
    st.lists(st.integers(min_value=1 << 22, max_value=(1 << 63) - 1), max_size=30),
)
def test_each_guild_goes_to_the_one_shard_that_owns_it(
    shards: tuple[int, set[int]], guilds: list[int]
) -> None:
    count, running = shards
    sessions = {
        i: Session(_OpenSocket(), i, count, {})  # type: ignore[arg-type]
        for i in running
    }
    for gid in guilds:
        owner = (gid >> 22) % count
        found = session_for(sessions, gid)
        assert found is (sessions[owner] if owner in running else None)
        assert sum(s.owns(gid) for s in sessions.values()) == (owner in running)
    assert session_for(sessions, None) is sessions.get(0)  # direct messages: shard 0


# -- commands synced once ------------------------------------------------------------------------


async def _start_and_stop(
    fake: FakeDiscord, engine: AsyncEngine, settings: FanloopSettings, clock: FakeClock
) -> None:
    app = await App.create(settings, clock, engine=engine, migrate=False)
    bot = Bot(app, fake, FAST)
    try:
        await bot.start()
    finally:
        await bot.close()


async def test_unchanged_commands_are_synced_once(
    fake: FakeDiscord, engine: AsyncEngine, settings: FanloopSettings, clock: FakeClock
) -> None:
    for _ in range(3):  # three starts on one database: the first syncs
        await _start_and_stop(fake, engine, settings, clock)
    assert len(fake.calls_to("PUT", PUT_GLOBAL)) == 1
    # Another schema (a cog less) is synced, once.
    fewer = shard_settings(settings, cogs=[c for c in settings.cogs if c != "cogs.weekly"])
    await _start_and_stop(fake, engine, fewer, clock)
    await _start_and_stop(fake, engine, fewer, clock)
    assert len(fake.calls_to("PUT", PUT_GLOBAL)) == 2
    # The development server is another scope.
    dev = shard_settings(settings, discord_dev_guild=GUILD_ID)
    await _start_and_stop(fake, engine, dev, clock)
    assert len(fake.calls_to("PUT", rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")) == 1
    # "always" syncs at every start, "never" at none.
    always = shard_settings(settings, discord_command_sync="always")
    await _start_and_stop(fake, engine, always, clock)
    never = shard_settings(settings, discord_command_sync="never", cogs=["cogs.meta"])
    await _start_and_stop(fake, engine, never, clock)
    assert len(fake.calls_to("PUT", PUT_GLOBAL)) == 3


async def test_a_failed_sync_is_tried_again_at_the_next_start(
    fake: FakeDiscord, engine: AsyncEngine, settings: FanloopSettings, clock: FakeClock
) -> None:
    fake.fail("PUT", PUT_GLOBAL, 500)
    await _start_and_stop(fake, engine, settings, clock)
    await _start_and_stop(fake, engine, settings, clock)
    await _start_and_stop(fake, engine, settings, clock)
    assert [c.status for c in fake.calls_to("PUT", PUT_GLOBAL)] == [500, 200]

    async def synced() -> bool:
        return bool(fake.commands.get(None))

    await eventually(synced)


def test_the_schema_hash_ignores_command_order() -> None:
    a = {"name": "a", "type": 1, "description": "x"}
    b = {"name": "b", "type": 1, "description": "y"}
    assert schema_hash([a, b]) == schema_hash([b, a])
    assert schema_hash([a, b]) != schema_hash([a, dict(b, description="z")])


# -- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "ids", "expected"),
    [
        ("4", "0, 2-3", (4, [0, 2, 3])),
        ("auto", None, ("auto", None)),
        ("2", "[1, 0]", (2, [0, 1])),
        (None, None, (None, None)),
    ],
)
def test_shard_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, count: str | None, ids: str | None, expected: Any
) -> None:
    from config.settings import load_settings

    for name, value in (("COUNT", count), ("IDS", ids)):
        if value is None:
            monkeypatch.delenv(f"FANLOOP_DISCORD_SHARD_{name}", raising=False)
        else:
            monkeypatch.setenv(f"FANLOOP_DISCORD_SHARD_{name}", value)
    loaded = load_settings()
    assert (loaded.discord_shard_count, loaded.discord_shard_ids) == expected
    assert loaded.discord_sharded == (count is not None)


@pytest.mark.parametrize(
    ("count", "ids", "message"),
    [
        ("0", None, "at least 1"),
        ("many", None, '"auto"'),
        ("auto", "0", "needs discord_shard_count as a number"),
        (None, "0", "needs discord_shard_count as a number"),
        ("2", "2", "discord_shard_ids: .*out of range"),
        ("2", "1,1", "named twice"),
        ("2", "a", "not a shard id"),
    ],
)
def test_bad_shard_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, count: str | None, ids: str | None, message: str
) -> None:
    from config.settings import ConfigError, load_settings

    for name, value in (("COUNT", count), ("IDS", ids)):
        if value is None:
            monkeypatch.delenv(f"FANLOOP_DISCORD_SHARD_{name}", raising=False)
        else:
            monkeypatch.setenv(f"FANLOOP_DISCORD_SHARD_{name}", value)
    with pytest.raises(ConfigError, match=message):
        load_settings()
