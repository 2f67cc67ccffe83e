"""Outgoing webhooks: each event of a community with a webhook becomes one outbox row (platform
`webhook`), and the webhook worker POSTs it, signed, retrying with back-off until the receiver
answers 2xx (at least once: receivers deduplicate on the event's `id`).

The body is fixed when the event is stored, so every attempt sends the same bytes; the signature
is made at each attempt (its time is the attempt's) with the secret of that moment. The address
is read at each attempt too: an event waits for a changed address, and is given up when the
webhook was removed.
"""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp

from bot.core.clock import Clock
from bot.core.events import Event
from bot.core.outbox import DeliveryFailed, DeliveryRetry, Outbox, OutboxItem, OutboxWorker
from cogs.webhooks import signing
from cogs.webhooks.config import WebhookConfig
from storage.core.outbox import NewMessage

log = logging.getLogger(__name__)

PLATFORM = "webhook"
KIND = "event"
TIMEOUT = aiohttp.ClientTimeout(total=10)
USER_AGENT = "fanloop-webhooks/1"
PING = "ping"


class WebhookError(Exception):
    """A delivery that may succeed later (5xx, a timeout, a refused connection)."""


def body(event: Event) -> str:
    return json.dumps(
        {
            "id": event.id,
            "type": event.type,
            "created_at": event.at.isoformat(),
            "community": {"id": event.community_id},
            "data": event.data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )


class WebhookService:
    def __init__(self, outbox: Outbox, config: WebhookConfig, clock: Clock) -> None:
        self.outbox = outbox
        self.config = config
        self.clock = clock
        self._session: aiohttp.ClientSession | None = None

    # -- storing ----------------------------------------------------------------------------

    async def store(self, event: Event) -> bool:
        """The event sink: keep the event for the community's webhook, if it has one (and a
        secret to sign with). False when there is none, or the event was stored before."""
        url, secret = await self.config.get(event.community_id)
        if not url or not secret:
            return False
        message = NewMessage(
            community_id=event.community_id,
            platform=PLATFORM,
            kind=KIND,
            target=event.type[:64],
            payload={"event": event.id, "type": event.type, "body": body(event)},
            dedup_key=f"wh:{event.id}",
        )
        added = await self.outbox.repo.add([message], self.clock.now())
        self.outbox.wake.set()
        return added > 0

    # -- delivering -------------------------------------------------------------------------

    async def deliver(self, item: OutboxItem) -> None:
        url, secret = await self.config.get(item.community_id)
        if not url:
            raise DeliveryFailed("the community's webhook was removed")
        if not secret:
            raise DeliveryFailed("the community's webhook has no secret")
        data = str(item.payload["body"]).encode()
        now = int(self.clock.now().timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Fanloop-Event": str(item.payload.get("type", "")),
            "Fanloop-Delivery": str(item.payload.get("event", "")),
            signing.HEADER: signing.header(secret, now, data),
        }
        session = self._client()
        try:
            async with session.post(url, data=data, headers=headers, allow_redirects=False) as resp:
                status = resp.status
                retry_after = resp.headers.get("Retry-After", "")
                await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise WebhookError(f"{type(exc).__name__}: {exc}") from None
        if 200 <= status < 300:
            return
        if status == 410:  # the receiver says it is gone for good
            raise DeliveryFailed("the receiver answered 410 Gone")
        if status == 429 and retry_after.isdigit():
            raise DeliveryRetry(min(3600.0, float(retry_after)), "receiver rate limited")
        raise WebhookError(f"the receiver answered {status}")

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def worker(self) -> OutboxWorker:
        return OutboxWorker(self.outbox, PLATFORM, self.deliver, batch=20)

    async def run(self, stop: asyncio.Event) -> None:
        """The serving process's webhook worker."""
        worker = self.worker()
        task = asyncio.create_task(worker.run_forever(stop), name="webhook-outbox")
        await stop.wait()
        await OutboxWorker.finish(task, self.outbox, 5.0)
