"""`fanloop web`: the public web pages alone, in a process of their own beside the bots.

It reads the same database as the bots and changes nothing: no migration (the schema must be
current: `fanloop migrate` or a bot's start brings it there), no scheduler, no platform.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from bot.cli.run import _settings, _until_interrupted
from bot.core.app import App
from bot.web.server import HttpServers
from bot.web.site import routes
from config.settings import FanloopSettings

log = logging.getLogger(__name__)

#: The port `fanloop web` listens on when neither --port nor web_port names one.
DEFAULT_PORT = 8080


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is out of range (0 to 65535; 0: a free port)")
    return port


def web(args: argparse.Namespace) -> int:
    overrides: dict[str, object] = {"auto_migrate": False}
    if args.db:
        overrides["database_url"] = args.db
    settings = _settings(args, **overrides)
    host = args.host or settings.web_host
    port = args.port if args.port is not None else settings.web_port or DEFAULT_PORT
    try:
        return _until_interrupted(_serve(settings, host, port), settings)
    except OSError as exc:
        print(
            f"fanloop web: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr
        )
        return 2


async def _serve(settings: FanloopSettings, host: str, port: int) -> int:
    app = await App.create(settings)
    site_routes, pages = routes(app)
    servers = HttpServers()
    servers.add(host, port, site_routes)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await servers.start()
        bound = servers.bound[(host, port)]
        print(f"fanloop web: serving on http://{bound[0]}:{bound[1]}/", flush=True)
        await stop.wait()
    finally:
        await servers.stop()
        await pages.close()
        await app.close()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("web", help="serve the public web pages alone (read-only)")
    p.add_argument("--db", help="database URL (default: the configured one)")
    p.add_argument("--host", help="address to listen on (default: web_host, 127.0.0.1)")
    p.add_argument(
        "--port", type=_port, help=f"port (default: web_port, or {DEFAULT_PORT} when it is 0)"
    )
    p.set_defaults(func=web)
