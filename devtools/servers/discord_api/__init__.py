"""A local server that speaks Discord's REST v10 and gateway, for tests and `fanloop bench discord`.

discord.py runs unchanged against it once `discord.http.Route.BASE` points at `api_base` and the
gateway URL at `gateway_url` (fanloop's settings `discord_api_base` / `discord_gateway_url` do
both). It keeps a small world — one guild with roles, channels and members, users, the bot's
messages, the synced commands — and enforces the rules Discord enforces and discord.py does
not check, so a test notices when the bot breaks them:

- an interaction must be acknowledged once, within 3 seconds (later: 404 "Unknown interaction",
  twice: 400 "already acknowledged", also from a redelivery of it: `send` the same payload
  again); a follow-up needs the acknowledgement first;
- messages: content ≤ 2000, embed limits, ≤ 5 action rows of ≤ 5 buttons or one select,
  custom ids ≤ 100 characters and unique within a message, no empty message;
- modals: title ≤ 45, 1–5 text inputs; command schema: names, descriptions, options, choices
  and localizations within Discord's limits, localized names unique per locale;
- members who closed their DMs answer 403 (code 50007); any route can be made to answer 429 or
  a 5xx for its next requests (`fail`), as in an outage, until `recover`;
- sharding: IDENTIFY with `shard: [id, count]` (several connections at once, from one process
  or several), each guild's events only to the shard that owns it (`(guild_id >> 22) % count`,
  events of no guild to shard 0), `GET /gateway/bot` with a recommended shard count, 4010 for an
  invalid shard (`shards.py`). `add_guild(name, shard=(id, count))` adds a guild on a shard,
  `wait_shards(*ids)` waits for their connections.

Tests build real-shaped events with `slash`, `press`, `submit`, `autocomplete` and `reply`, send
them over the gateway with `send`, and read what the bot answered from the returned
`Interaction` record. `fanloop bench discord` drives it from another process through
`POST /_fake/burst`.
"""

from devtools.servers.discord_api.limits import check_commands, check_message, check_modal
from devtools.servers.discord_api.server import FakeDiscord, serve_forever
from devtools.servers.discord_api.world import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    APP_ID,
    ATTACH,
    BOT_USER,
    EMBED,
    EVERYONE,
    GENERAL_ID,
    GUILD_ID,
    HISTORY,
    MANAGE_GUILD,
    MANAGE_ROLES,
    MESSAGE_CONTENT,
    NEWS_ID,
    SEND,
    USE_COMMANDS,
    VIEW,
    Call,
    Guild,
    Interaction,
    Rejected,
    snowflake,
    text_channel,
    user_payload,
)

__all__ = [
    "ADMINISTRATOR",
    "ALL_PERMISSIONS",
    "APP_ID",
    "ATTACH",
    "BOT_USER",
    "EMBED",
    "EVERYONE",
    "GENERAL_ID",
    "GUILD_ID",
    "HISTORY",
    "MANAGE_GUILD",
    "MANAGE_ROLES",
    "MESSAGE_CONTENT",
    "NEWS_ID",
    "SEND",
    "USE_COMMANDS",
    "VIEW",
    "Call",
    "FakeDiscord",
    "Guild",
    "Interaction",
    "Rejected",
    "check_commands",
    "check_message",
    "check_modal",
    "serve_forever",
    "snowflake",
    "text_channel",
    "user_payload",
]
