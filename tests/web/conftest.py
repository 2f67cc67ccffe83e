"""The public pages of an App, through aiohttp's test client (a real server on a free port)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.core.app import App
from bot.web.site import routes


@pytest_asyncio.fixture
async def client(app: App) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    # check_every=0: each request reads the database's state first (no waiting in tests).
    site_routes, pages = routes(app, check_every=0)
    application = web.Application()
    application.add_routes(site_routes)
    async with TestClient(TestServer(application)) as c:
        yield c
    await pages.close()
