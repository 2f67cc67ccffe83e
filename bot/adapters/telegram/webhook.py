"""The webhook: Telegram POSTs each update; it is answered 200 only once it is stored in the
inbox (otherwise Telegram sends it again). A button press is answered in the webhook's HTTP
response when the answer is ready soon enough (Telegram performs the method given there), which
saves a request per press; later answers go out as requests."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.adapters.telegram.inbox import Inbox

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# How long a callback query's webhook request waits for the answer to ride on its response.
# Short: Telegram sends at most `max_connections` requests at once, so a request held longer
# slows down the delivery of everything behind it.
IN_RESPONSE_WAIT = 0.5
MAX_CONNECTIONS = 100  # Telegram's maximum

Raw = dict[str, Any]


class WebhookServer:
    def __init__(
        self,
        inbox: Inbox,
        dispatch: Callable[[Raw], None],
        slots: dict[str, asyncio.Future[dict[str, Any]]],
        *,
        path: str,
        secret: str,
    ) -> None:
        """`slots` holds, per callback query id, the future the adapter resolves with the
        answer's parameters instead of sending them (see TelegramAdapter.answer_callback)."""
        self.inbox = inbox
        self.dispatch = dispatch
        self.slots = slots
        self.path = "/" + path.strip("/")
        self.secret = secret
        self._runner: web.AppRunner | None = None

    async def start(self, listen: str, port: int) -> None:
        app = web.Application()
        app.router.add_post(self.path, self._post)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, listen, port).start()

    @property
    def listening(self) -> bool:
        return self._runner is not None

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _post(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return web.Response(status=403)
        try:
            raw = await request.json()
            int(raw["update_id"])
        except (ValueError, KeyError, TypeError):
            return web.Response(status=400)
        new = await self.inbox.store([raw])  # fails → 500, and Telegram sends it again
        if not new:
            return web.Response()  # a redelivery: stored (and handled, or being handled) before
        query = raw.get("callback_query")
        if not isinstance(query, dict) or "id" not in query:
            self.dispatch(raw)
            return web.Response()
        query_id = str(query["id"])
        slot: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.slots[query_id] = slot
        self.dispatch(raw)
        try:
            params = await asyncio.wait_for(asyncio.shield(slot), IN_RESPONSE_WAIT)
        except TimeoutError:
            # The answer may have been put in the slot after the time ran out and before this
            # resumed (a busy loop runs much in between): it is this response's to carry. Else
            # the slot goes below, with no await in between, and the answer goes out as a
            # request of its own.
            if not slot.done():
                return web.Response()
            params = slot.result()
        finally:
            self.slots.pop(query_id, None)
        body = json.dumps({"method": "answerCallbackQuery", **params})
        return web.Response(body=body.encode(), content_type="application/json")
