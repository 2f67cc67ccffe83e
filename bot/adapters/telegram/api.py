"""The Bot API calls of the hot path, made without python-telegram-bot: `getUpdates` read as
plain JSON on the adapter's own aiohttp session, and `answerCallbackQuery` sent with a small
prebuilt body on kept-alive connections of the small HTTP/1.1 client (`bot.adapters.http1`:
about a third of aiohttp's cost per request, and a burst answers one press per update).
Everything else goes through python-telegram-bot's `Bot`."""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
import orjson

from bot.adapters.http1 import Http1, HttpError

log = logging.getLogger(__name__)

JSON_HEADERS = {"Content-Type": "application/json"}
# Beyond the long poll's own timeout, how long a getUpdates may take before it is given up.
POLL_SLACK = 10.0
CALL_TIMEOUT = 30.0
ANSWER_CONNECTIONS = 64  # answers on their way at once


def _loads(body: bytes) -> Any:
    """JSON from the Bot API: orjson (a burst's getUpdates brings 100 updates at a time), the
    standard library for what orjson refuses (a lone surrogate's escape, say)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


class ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(f"{status}: {description}")
        self.status = status
        self.description = description


def answer_params(query_id: str, text: str = "", alert: bool = False) -> dict[str, Any]:
    """The parameters of an answerCallbackQuery (also what a webhook answer carries)."""
    params: dict[str, Any] = {"callback_query_id": query_id}
    if text:
        params["text"] = text
    if alert:
        params["show_alert"] = True
    return params


class LeanApi:
    def __init__(self, method_url: str) -> None:
        """`method_url` is the bot's base URL with its token (`…/bot<token>`)."""
        self.method_url = method_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        self._answers: Http1 | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=64),
                json_serialize=json.dumps,
            )
        return self._session

    async def call(self, method: str, body: bytes, seconds: float = CALL_TIMEOUT) -> Any:
        async with self._http().post(
            f"{self.method_url}/{method}",
            data=body,
            headers=JSON_HEADERS,
            timeout=aiohttp.ClientTimeout(total=seconds),
        ) as r:
            payload = _loads(await r.read())
        if not payload.get("ok"):
            raise ApiError(r.status, str(payload.get("description", "")))
        return payload.get("result")

    async def get_updates(
        self, offset: int, wait: int, allowed_updates: list[str], limit: int = 100
    ) -> list[dict[str, Any]]:
        """A long poll; the updates as Telegram sent them. Asking from `offset` confirms every
        update before it: Telegram will not send those again."""
        body = json.dumps(
            {
                "offset": offset,
                "timeout": wait,
                "limit": limit,
                "allowed_updates": allowed_updates,
            }
        ).encode()
        result = await self.call("getUpdates", body, seconds=wait + POLL_SLACK)
        return list(result or [])

    async def answer_callback(self, params: dict[str, Any]) -> bool:
        """Answer a callback query. True once Telegram replied: it performed the answer, or
        refused it (too old, say; logged and otherwise ignored, the press's effect is done).
        False when the request failed on the way: whether Telegram got it is not known."""
        query_id = params["callback_query_id"]
        if self._answers is None:
            self._answers = Http1(self.method_url, ANSWER_CONNECTIONS)
        body = json.dumps(params).encode()
        try:
            status, raw = await self._answers.request("POST", "/answerCallbackQuery", body)
            payload = _loads(raw)
        except (HttpError, ValueError) as exc:
            log.warning("telegram: the answer to callback query %s failed: %s", query_id, exc)
            return False
        if not isinstance(payload, dict) or not payload.get("ok"):
            description = payload.get("description", "") if isinstance(payload, dict) else ""
            log.info(
                "telegram: callback query %s not answered: %s %s", query_id, status, description
            )
        return True

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._answers is not None:
            self._answers.close()
            self._answers = None
