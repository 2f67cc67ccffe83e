"""The operations endpoints of a fanloop process:

- `GET /healthz`: 200 with `{"status": "ok", "db": "ok", "platforms": {...: "connected"}}`
  when the database answers and every platform this process serves is connected; 503 with the
  same body saying which part is not (or `"status": "stopping"` once the process is stopping).
- `GET /metrics`: the Prometheus text format (bot/core/metrics.py names every series).

Both read; neither changes anything. They are served on `metrics_host:metrics_port`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from bot.core.app import App
from bot.core.health import check
from bot.core.scheduler import TICK_SECONDS, Scheduler


def routes(
    app: App, platforms: Sequence[str], *, tick_seconds: float = TICK_SECONDS
) -> list[web.RouteDef]:
    """The two routes, for `app` serving `platforms` (their names); `tick_seconds`: the
    scheduler's interval (the job lag is read from the lease each tick moves)."""
    lease_span = tick_seconds * Scheduler.LEASE_TICKS
    names = list(platforms)

    async def healthz(_: web.Request) -> web.Response:
        report = await check(app.engine, app.health, names)
        return web.json_response(
            report.body,
            status=200 if report.ok else 503,
            headers={"Cache-Control": "no-store"},
        )

    async def metrics(_: web.Request) -> web.Response:
        body = await app.metrics.exposition(
            app.engine,
            now=app.clock.now(),
            wall=datetime.now(UTC),
            lease=Scheduler.LEASE,
            lease_span=lease_span,
            platforms=names,
            connected=app.health.connected,
        )
        response = web.Response(body=body, headers={"Cache-Control": "no-store"})
        response.headers["Content-Type"] = CONTENT_TYPE_PLAIN_0_0_4
        return response

    return [web.get("/healthz", healthz), web.get("/metrics", metrics)]
