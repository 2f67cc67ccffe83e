"""Local stand-ins for the chat platforms' APIs, for tests and benchmarks.

- `devtools.servers.telegram_api`: a local server speaking the Telegram Bot API.
- `devtools.servers.discord_api`: a local server speaking Discord's REST v10 and gateway, enforcing
  the Discord-side rules an adapter must respect (the 3-second acknowledgement, one response per
  interaction, message, component and command-schema limits).
"""
