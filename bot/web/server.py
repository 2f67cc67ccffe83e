"""The listeners: one aiohttp web server per configured address, serving every route set that
was added for that address (the operations endpoints and, on the same port or another, other
pages). Started with the platforms by `fanloop run`, stopped after them."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiohttp import web

log = logging.getLogger(__name__)

Address = tuple[str, int]


class HttpServers:
    def __init__(self) -> None:
        self._routes: dict[Address, list[web.RouteDef]] = {}
        self._runners: list[web.AppRunner] = []
        self.bound: dict[Address, Address] = {}  # configured address -> the one listened on

    def add(self, host: str, port: int, routes: Iterable[web.RouteDef]) -> None:
        """Serve `routes` on host:port (port 0: a free port, see `bound`)."""
        self._routes.setdefault((host, port), []).extend(routes)

    async def start(self) -> None:
        """Listen on every address; an address that cannot be bound raises `OSError` (after
        the listeners already started are closed again)."""
        try:
            for (host, port), routes in self._routes.items():
                app = web.Application()
                app.add_routes(routes)
                runner = web.AppRunner(app, access_log=None, handle_signals=False)
                await runner.setup()
                self._runners.append(runner)
                site = web.TCPSite(runner, host, port)
                await site.start()
                bound = self.bound[(host, port)] = _bound(runner, host, port)
                log.info("serving %s on http://%s", _paths(routes), _show(*bound))
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        runners, self._runners = self._runners, []
        for runner in reversed(runners):
            await runner.cleanup()


def _bound(runner: web.AppRunner, host: str, port: int) -> Address:
    for addr in runner.addresses:
        if isinstance(addr, tuple) and len(addr) >= 2:
            return str(addr[0]), int(addr[1])
    return host, port


def _paths(routes: list[web.RouteDef]) -> str:
    return ", ".join(sorted({r.path for r in routes}))


def _show(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
