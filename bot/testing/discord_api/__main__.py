"""`python -m bot.testing.discord_api [port]`: the local Discord server until interrupted."""

import asyncio
import sys

from bot.testing.discord_api.server import serve_forever

asyncio.run(serve_forever(port=int(sys.argv[1]) if len(sys.argv) > 1 else 0))
