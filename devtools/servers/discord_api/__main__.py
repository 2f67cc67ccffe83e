"""`python -m devtools.servers.discord_api [port]`: the local Discord server until interrupted."""

import asyncio
import sys

from devtools.servers.discord_api.server import serve_forever

asyncio.run(serve_forever(port=int(sys.argv[1]) if len(sys.argv) > 1 else 0))
