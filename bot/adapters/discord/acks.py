"""Acknowledging interactions before anything else, on the adapter's own connections.

Discord takes an interaction's first response only within 3 seconds of sending it, and only
once. In a burst that deadline is everything, so acknowledgements get their own queue and their
own requests:

- Each interaction is stamped when its gateway event is read (`Arrival.at`). One that has
  waited longer than `give_up` by the time its turn comes is not acknowledged at all: Discord
  refuses it by then, and the request would only take time from the ones still in time.
- While the oldest waiting interaction is younger than `lifo_after`, the queue is served in
  arrival order; once it is older, newest first: the newest are the ones that can still be
  made, and an old queue served oldest first makes every interaction behind it late too.
- The requests are built here, not by discord.py: a prebuilt body written on a kept-alive
  connection (`http1`; discord.py's webhook adapter costs about a millisecond of the event
  loop for each). `sending` requests are on their way at once.

A successful acknowledgement is ownership: Discord accepts one response per interaction, so
the delivery whose acknowledgement was accepted is the one that acts, and a delivery told
"already acknowledged" (40060) does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from enum import Enum
from typing import Any

from bot.adapters.http1 import Http1, HttpError

log = logging.getLogger(__name__)

# Discord asks bots to say who they are this way.
USER_AGENT = "DiscordBot (https://github.com/fanloop/fanloop, 1) fanloop"
UNKNOWN_INTERACTION = 10062  # Discord's code for an interaction it no longer knows (expired)
ALREADY_ACKNOWLEDGED = 40060  # ... for a second response to an interaction

COMPONENT, MODAL_SUBMIT = 3, 5  # interaction types
DEFERRED_UPDATE = b'{"type":6}'  # a button or select: acknowledged silently
DEFERRED_THINKING = b'{"type":5,"data":{"flags":64}}'  # a command or form: "thinking…", private
RATE_LIMIT_TRIES = 5  # a follow-up answered 429 is made again, this often at most
RATE_LIMIT_WAIT = 30.0  # seconds waited at most before one more try


class Ack(Enum):
    DONE = "acknowledged"  # this delivery owns the interaction
    EXPIRED = "expired"  # too old: nothing was sent, or Discord no longer knew it
    ELSEWHERE = "elsewhere"  # another delivery of it was answered: that one acts
    FAILED = "failed"  # the request failed otherwise (logged)
    # Discord could not take it now (429, a 5xx, no answer): an outage, not a refusal.
    UNAVAILABLE = "unavailable"


class Arrival:
    """One interaction as it came in: what its acknowledgement needs, and when it came."""

    __slots__ = ("app_id", "at", "id", "kind", "locale", "token")

    def __init__(
        self, iid: int, token: str, kind: int, app_id: str, locale: str, at: float
    ) -> None:
        self.id, self.token, self.kind, self.app_id = iid, token, kind, app_id
        self.locale, self.at = locale, at

    @classmethod
    def of(cls, data: dict[str, Any], at: float | None = None) -> Arrival:
        """From the gateway event's payload (`at`: when it was read, default now)."""
        return cls(
            int(data["id"]),
            str(data["token"]),
            int(data["type"]),
            str(data.get("application_id") or ""),
            str(data.get("locale") or "en-US"),
            time.monotonic() if at is None else at,
        )

    def age(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.at


DISCORD_EPOCH_MS = 1420070400000
SKEW_WINDOW = 30.0  # seconds over which the smallest age seen is taken as clock skew


class Backlog:
    """When an interaction was created, in this process's monotonic time.

    An interaction's id is a snowflake: the millisecond Discord created it is in its high bits.
    An event read late (the gateway socket full while the event loop was busy) is older than
    its reading time says, and it is Discord's clock that counts. The difference between the
    two clocks (skew, and the network's own delay) is taken as the smallest age seen over the
    last 30 to 60 seconds, so only the time spent waiting to be read counts, and a clock that
    is off does not make every interaction look too old."""

    def __init__(self) -> None:
        self._floor = float("inf")  # smallest age of the previous window
        self._current = float("inf")  # ... of this one
        self._window_ends = 0.0

    def created(self, interaction_id: int, read_at: float) -> float:
        age = time.time() - ((interaction_id >> 22) + DISCORD_EPOCH_MS) / 1000
        if read_at >= self._window_ends:
            self._floor, self._current = self._current, float("inf")
            self._window_ends = read_at + SKEW_WINDOW
        self._current = min(self._current, age)
        floor = min(self._floor, self._current)
        return read_at - max(0.0, age - floor)


class _Entry:
    __slots__ = ("arrival", "body", "result")

    def __init__(self, arrival: Arrival, body: bytes, result: asyncio.Future[Ack]) -> None:
        self.arrival, self.body, self.result = arrival, body, result


class Acknowledger:
    """The queue of interactions waiting for their first response, and its senders."""

    def __init__(
        self,
        api_base: str,
        *,
        sending: int = 32,
        give_up: float = 2.5,
        lifo_after: float = 1.0,
        connections: int = 64,
        calm_after: float = 0.2,
        answered: Callable[[float], None] = lambda seconds: None,
        missed: Callable[[], None] = lambda: None,
    ) -> None:
        """`answered(seconds)` is told how long after its arrival each acknowledgement was
        accepted, `missed()` of each interaction that expired before it (the metrics)."""
        self.api_base = api_base.rstrip("/")
        self.answered, self.missed = answered, missed
        self.sending = sending
        self.give_up = give_up
        self.lifo_after = lifo_after
        self.connections = connections
        self._queue: deque[_Entry] = deque()
        self._first: deque[_Entry] = deque()  # work already started: before all others
        self._wake = asyncio.Event()
        self._senders: list[asyncio.Task[None]] = []
        self._http: Http1 | None = None
        self.in_flight = 0
        self.expired = 0  # interactions given up before their acknowledgement
        self._expired_logged = -10.0
        # Set once nothing waited for an acknowledgement for `calm_after` seconds: within a
        # burst the queue touches empty between two clicks, and that is no calm yet.
        self.calm = asyncio.Event()
        self.calm.set()
        self.calm_after = calm_after
        self._calm_timer: asyncio.TimerHandle | None = None
        self.backlog = Backlog()

    @property
    def http(self) -> Http1:
        if self._http is None:
            self._http = Http1(self.api_base, self.connections, user_agent=USER_AGENT)
        return self._http

    @property
    def idle(self) -> bool:
        """Nothing waits for an acknowledgement, and none is on its way."""
        return not self._queue and not self._first and self.in_flight == 0

    @property
    def waiting(self) -> int:
        return len(self._queue) + len(self._first)

    def acknowledge(
        self, arrival: Arrival, body: bytes | None = None, *, first: bool = False
    ) -> asyncio.Future[Ack]:
        """Queue the interaction's first response (by default a deferral: silent for a
        button, "thinking…" for a command or form). `first`: before everything queued, for an
        interaction whose work already started (its effect may be committed: it must not be
        the one to miss its deadline, and it is sent even when it looks too old: Discord
        decides)."""
        if body is None:
            body = DEFERRED_UPDATE if arrival.kind == COMPONENT else DEFERRED_THINKING
        result: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        (self._first if first else self._queue).append(_Entry(arrival, body, result))
        self.calm.clear()
        if self._calm_timer is not None:
            self._calm_timer.cancel()
            self._calm_timer = None
        if not self._senders:
            self._senders = [asyncio.create_task(self._send_forever()) for _ in range(self.sending)]
        self._wake.set()
        return result

    def _next(self) -> tuple[_Entry, bool] | None:
        """The entry to send, and whether it may be given up when too old."""
        if self._first:
            return self._first.popleft(), False
        queue = self._queue
        now = time.monotonic()
        while queue and now - queue[0].arrival.at > self.give_up:
            self._give_up(queue.popleft())
        if not queue:
            return None
        if now - queue[0].arrival.at > self.lifo_after:
            return queue.pop(), True  # deep: the newest can still be made
        return queue.popleft(), True

    def _quiet(self) -> None:
        self._calm_timer = None
        if self.idle:
            self.calm.set()

    def _give_up(self, entry: _Entry) -> None:
        self.expired += 1
        self.missed()
        if not entry.result.done():
            entry.result.set_result(Ack.EXPIRED)
        now = time.monotonic()
        if now - self._expired_logged >= 10:  # an overload would flood the log
            log.warning("%d interactions expired before they were acknowledged", self.expired)
            self._expired_logged = now

    async def _send_forever(self) -> None:
        while True:
            picked = self._next()
            if picked is None:
                if self.idle and self._calm_timer is None and not self.calm.is_set():
                    self._calm_timer = asyncio.get_running_loop().call_later(
                        self.calm_after, self._quiet
                    )
                self._wake.clear()
                await self._wake.wait()
                continue
            entry, may_give_up = picked
            if may_give_up and entry.arrival.age() > self.give_up:  # a LIFO pick can be old
                self._give_up(entry)
                continue
            self.in_flight += 1
            try:
                outcome = await self._send(entry)
            except asyncio.CancelledError:
                if not entry.result.done():
                    entry.result.set_result(Ack.FAILED)
                raise
            except HttpError as exc:
                log.warning("could not acknowledge interaction %s: %r", entry.arrival.id, exc)
                outcome = Ack.UNAVAILABLE
            except Exception as exc:
                log.warning("could not acknowledge interaction %s: %r", entry.arrival.id, exc)
                outcome = Ack.FAILED
            finally:
                self.in_flight -= 1
                if self.idle and self._calm_timer is None:
                    self._calm_timer = asyncio.get_running_loop().call_later(
                        self.calm_after, self._quiet
                    )
            if outcome is Ack.EXPIRED:
                self._give_up(entry)
                continue
            if outcome is Ack.DONE:
                self.answered(time.monotonic() - entry.arrival.at)
            if not entry.result.done():
                entry.result.set_result(outcome)

    async def _send(self, entry: _Entry) -> Ack:
        a = entry.arrival
        status, body = await self.http.request(
            "POST", f"/interactions/{a.id}/{a.token}/callback", entry.body
        )
        if status < 300:
            return Ack.DONE
        code = _code(body)
        if code == ALREADY_ACKNOWLEDGED:
            return Ack.ELSEWHERE
        if status == 404 or code == UNKNOWN_INTERACTION:
            return Ack.EXPIRED
        log.warning("interaction %s: response refused (%s): %r", a.id, status, body[:200])
        return Ack.UNAVAILABLE if status == 429 or status >= 500 else Ack.FAILED

    async def request(
        self, method: str, path: str, payload: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        """A webhook request of an interaction (a follow-up, an edit of its response) on the
        same connections: (status, JSON body or None); `HttpError` when it got no answer."""
        data = None if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        for _ in range(RATE_LIMIT_TRIES):
            status, body = await self.http.request(method, path, data)
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = None
            if status != 429 or not isinstance(parsed, dict):
                break
            # Rate limited: wait as told (a follow-up has 15 minutes), then again.
            await asyncio.sleep(min(float(parsed.get("retry_after") or 1.0), RATE_LIMIT_WAIT))
        return status, parsed

    async def close(self) -> None:
        for task in self._senders:
            task.cancel()
        for task in self._senders:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._senders = []
        while self._first or self._queue:
            entry = (self._first or self._queue).popleft()
            if not entry.result.done():
                entry.result.set_result(Ack.FAILED)
        if self._http is not None:
            self._http.close()
            self._http = None


def _code(body: bytes) -> int | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    return payload.get("code") if isinstance(payload, dict) else None


def message_body(payload: dict[str, Any]) -> bytes:
    """An interaction response of type 4 (a message) with `payload` as its data."""
    return json.dumps({"type": 4, "data": payload}, separators=(",", ":")).encode()
