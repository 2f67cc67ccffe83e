"""Whether this process can serve: the database answers and every platform it serves is
connected. Adapters say whether they are connected through a probe (`PlatformHealth.watch`);
`GET /healthz` (bot/web/ops.py) reads the verdict, and `GET /metrics` the same probes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.core.vitals import ping

log = logging.getLogger(__name__)

#: Seconds the database has to answer a health check.
PING_TIMEOUT = 3.0

Probe = Callable[[], bool]


class PlatformHealth:
    """Each served platform's probe, `() -> bool`: True while it is connected (Discord: the
    gateway session is ready; Telegram: signed in and fetching updates, or its webhook
    listening). Probes are called when someone asks, never on the path of an interaction."""

    def __init__(self) -> None:
        self._probes: dict[str, Probe] = {}
        self.stopping = False  # set once the process is asked to stop: it serves no more

    def watch(self, platform: str, probe: Probe) -> None:
        self._probes[platform] = probe

    def forget(self, platform: str) -> None:
        self._probes.pop(platform, None)

    def connected(self, platform: str) -> bool:
        probe = self._probes.get(platform)
        if probe is None:
            return False
        try:
            return bool(probe())
        except Exception:  # a probe must not break a health check
            log.exception("health probe of %s failed", platform)
            return False


@dataclass(frozen=True)
class HealthReport:
    ok: bool
    body: dict[str, Any]


async def check(
    engine: AsyncEngine, health: PlatformHealth, platforms: Iterable[str]
) -> HealthReport:
    """The verdict: ok when the database answers within PING_TIMEOUT, every platform in
    `platforms` is connected and the process is not stopping. The body says which part is not
    (`{"status": "ok", "db": "ok", "platforms": {"telegram": "connected"}}`)."""
    try:
        async with asyncio.timeout(PING_TIMEOUT):
            await ping(engine)
        db = "ok"
    except Exception as exc:  # any failure to answer is "unavailable", said in a few words
        db = "timeout" if isinstance(exc, TimeoutError) else f"error: {type(exc).__name__}"
    states = {name: health.connected(name) for name in platforms}
    ok = db == "ok" and all(states.values()) and not health.stopping
    status = "stopping" if health.stopping else ("ok" if ok else "unavailable")
    body = {
        "status": status,
        "db": db,
        "platforms": {n: "connected" if up else "disconnected" for n, up in states.items()},
    }
    return HealthReport(ok, body)
