"""The webhook: Telegram POSTs each update; it is answered 200 only once it is stored in the
inbox (otherwise Telegram sends it again). A button press is answered in the webhook's HTTP
response when the answer is ready soon enough (Telegram performs the method given there), which
saves a request per press; later answers go out as requests. The adapter learns whether the
answer was written in the response (`AnswerSlot.out`), so that the update is marked handled only
once its answer is out (see answers.py)."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.adapters.telegram.answers import AnswerSlot
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
        slots: dict[str, AnswerSlot],
        *,
        path: str,
        secret: str,
    ) -> None:
        """`slots` holds, per callback query id, the slot the adapter hands the answer to
        instead of sending it (see TelegramAdapter.answer_callback)."""
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
        slot = AnswerSlot()
        self.slots[query_id] = slot
        try:
            self.dispatch(raw)
            try:
                await asyncio.wait([slot.params], timeout=IN_RESPONSE_WAIT)
            finally:
                # From here on the adapter sends the answer as a request of its own. An answer
                # handed over before this point (even in the very step the wait ended) goes out
                # in this response: nothing is dropped between the two.
                self.slots.pop(query_id, None)
                slot.close()
            if slot.params.cancelled():
                return web.Response()
            body = json.dumps({"method": "answerCallbackQuery", **slot.params.result()})
            response = web.Response(body=body.encode(), content_type="application/json")
            try:
                await response.prepare(request)
                await response.write_eof()
            except ConnectionError as exc:
                log.info("telegram: the answer to query %s was not written: %s", query_id, exc)
                return response
            slot.settle(True)  # written to the connection: out of the process
            return response
        finally:
            slot.settle(False)  # not in the response: the adapter sends it as a request
