"""What one process counts for its operators, in Prometheus' terms (prometheus_client).

Two kinds of figures:
- Counted as things happen (cheap: a counter's increment or a histogram's observation, in
  memory, no database): interactions by platform, kind and outcome and how long the core took
  over them; how soon a platform's first answer went out (Discord's acknowledgement, Telegram's
  answer to a button press); drop claims by their answer; the scheduler's ticks.
- Read when a scraper asks (`exposition`): the outbox's backlog per platform and the age of its
  oldest message, unfinished scheduled jobs, how long ago the scheduler last ticked (in any
  process), whether the database answers and whether each platform is connected.

Each App has its own registry (no process-wide state: tests run many Apps in one process). The
names are listed, with what to alert on, in docs/deploy.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.core.vitals import Vitals, read_vitals

log = logging.getLogger(__name__)

#: Seconds a scrape waits for the database before it answers without its figures.
SCRAPE_TIMEOUT = 5.0
#: Latency buckets in seconds: fine below Discord's 3-second deadline, coarse after.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 10.0)

# `kind` of an interaction, as the dispatcher sees it.
COMMAND, BUTTON, REPLY = "command", "button", "reply"
# `outcome`: done; refused with a message for the member (a UserError: a typo, no permission,
# a rate limit); failed on an unexpected error (logged with a reference).
OK, REFUSED, FAILED = "ok", "refused", "failed"


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        self.interactions = Counter(
            "fanloop_interactions",
            "Interactions the core handled: commands, button presses and replies to the bot's "
            "messages, by platform, kind and outcome (ok, refused, failed).",
            ["platform", "kind", "outcome"],
            registry=r,
        )
        self.interaction_seconds = Histogram(
            "fanloop_interaction_duration_seconds",
            "Time the core took over an interaction: from the dispatcher's start to the reply "
            "(role and rate checks, the handler, its database work).",
            ["platform", "kind"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.answer_seconds = Histogram(
            "fanloop_answer_latency_seconds",
            "From an interaction's arrival to the platform's first answer to it: Discord's "
            "acknowledgement (a response or a deferral, within Discord's 3 s), Telegram's "
            "answerCallbackQuery of a button press.",
            ["platform"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.answers_missed = Counter(
            "fanloop_answers_missed",
            "Interactions not answered in time: Discord ones that expired before their "
            'acknowledgement, Telegram presses answered "received, your answer follows".',
            ["platform"],
            registry=r,
        )
        self.drop_claims = Counter(
            "fanloop_drop_claims",
            "Flash-claim presses by their answer (won, waitlisted, sold_out, not_reserved, "
            "lapsed, closed, not_eligible); a repeated press counts again.",
            ["result"],
            registry=r,
        )
        self.scheduler_leader = Gauge(
            "fanloop_scheduler_leader",
            "1 while this process holds the scheduler lease (runs the time-driven work).",
            registry=r,
        )
        self.scheduler_last_tick = Gauge(
            "fanloop_scheduler_last_tick_timestamp_seconds",
            "When this process last ran the due work as the scheduler's leader (Unix time).",
            registry=r,
        )
        self.scheduled_work_failures = Counter(
            "fanloop_scheduled_work_failures",
            "Time-driven work that raised (logged; its period key is tried again).",
            registry=r,
        )
        self.suggestion_vectors_waiting = Gauge(
            "fanloop_suggestion_vectors_waiting",
            "Suggestions in this process's similarity indexes still waiting for their vector "
            "from dedup_model (new, or the whole board after a model change); they are found "
            "by their words meanwhile.",
            registry=r,
        )
        self.suggestion_vectors_added = Counter(
            "fanloop_suggestion_vectors_added",
            "Suggestions the background work gave their vector in this process's indexes "
            "(embedded here, or read when another process had stored it).",
            registry=r,
        )
        self.suggestion_vectors_set_aside = Counter(
            "fanloop_suggestion_vectors_set_aside",
            "Suggestions whose text dedup_model failed on every time while it embedded others "
            "(logged with the reason); they are found by their words only until edited.",
            registry=r,
        )
        self._scraped = _ScrapeTime()
        r.register(self._scraped)

    # -- the hot path ---------------------------------------------------------------------------

    def interaction(self, platform: str, kind: str, outcome: str, seconds: float) -> None:
        self.interactions.labels(platform, kind, outcome).inc()
        self.interaction_seconds.labels(platform, kind).observe(seconds)

    def answered(self, platform: str, seconds: float) -> None:
        self.answer_seconds.labels(platform).observe(seconds)

    def missed(self, platform: str) -> None:
        self.answers_missed.labels(platform).inc()

    def claimed(self, result: str) -> None:
        self.drop_claims.labels(result).inc()

    def ticked(self, leader: bool) -> None:
        self.scheduler_leader.set(1 if leader else 0)
        if leader:
            self.scheduler_last_tick.set(time.time())

    # -- a scrape ---------------------------------------------------------------------------------

    async def exposition(
        self,
        engine: AsyncEngine,
        *,
        now: datetime,
        wall: datetime,
        lease: str,
        lease_span: float,
        platforms: Sequence[str],
        connected: Callable[[str], bool],
    ) -> bytes:
        """The text a scraper reads: the counted figures, and the database's read now (`now`
        on the App's clock, `wall` the real time for job leases). `lease`: the scheduler
        lease's name; `lease_span`: how far ahead each tick moves it. Without an answer from
        the database within SCRAPE_TIMEOUT, its figures are left out and
        `fanloop_database_up` is 0."""
        try:
            async with asyncio.timeout(SCRAPE_TIMEOUT):
                vitals: Vitals | None = await read_vitals(engine, wall, lease)
        except Exception as exc:
            log.warning("metrics: the database did not answer: %r", exc)
            vitals = None
        state = {p: connected(p) for p in platforms}
        return self._scraped.render(self.registry, vitals, now, wall, lease_span, state)


class _ScrapeTime:
    """The figures read at scrape time, as a collector of the App's registry."""

    def __init__(self) -> None:
        self._vitals: Vitals | None = None
        self._now = self._wall = datetime.min
        self._span = 0.0
        self._platforms: dict[str, bool] = {}

    def render(
        self,
        registry: CollectorRegistry,
        vitals: Vitals | None,
        now: datetime,
        wall: datetime,
        span: float,
        platforms: dict[str, bool],
    ) -> bytes:
        # Set and read with no await in between: concurrent scrapes each print their own.
        self._vitals, self._now, self._wall, self._span = vitals, now, wall, span
        self._platforms = platforms
        return generate_latest(registry)

    def describe(self) -> Iterable[Metric]:
        return []  # no fixed set: families come and go with the platforms and the database

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "fanloop_platform_connected",
            "1 while the platform's adapter is connected (gateway ready, updates arriving).",
            labels=["platform"],
        )
        for name, connected in sorted(self._platforms.items()):
            up.add_metric([name], 1.0 if connected else 0.0)
        yield up
        v = self._vitals
        yield GaugeMetricFamily(
            "fanloop_database_up",
            "1 when the database answered this scrape's queries.",
            value=0.0 if v is None else 1.0,
        )
        if v is None:
            return
        depth = GaugeMetricFamily(
            "fanloop_outbox_pending",
            "Messages in the outbox not delivered yet (nor given up on), by platform.",
            labels=["platform"],
        )
        age = GaugeMetricFamily(
            "fanloop_outbox_oldest_pending_age_seconds",
            "Age of the oldest message waiting in the outbox, by platform.",
            labels=["platform"],
        )
        for platform, backlog in sorted(v.outbox.items()):
            depth.add_metric([platform], backlog.pending)
            age.add_metric([platform], max(0.0, (self._now - backlog.oldest).total_seconds()))
        yield depth
        yield age
        jobs = GaugeMetricFamily(
            "fanloop_jobs_unfinished",
            "Scheduled jobs claimed and not finished: running (lease held), or abandoned (the "
            "process died; the next tick takes it over).",
            labels=["state"],
        )
        jobs.add_metric(["running"], v.jobs_running)
        jobs.add_metric(["abandoned"], v.jobs_abandoned)
        yield jobs
        if v.oldest_unfinished_job is not None:
            yield GaugeMetricFamily(
                "fanloop_job_oldest_unfinished_age_seconds",
                "How long ago the oldest unfinished scheduled job was claimed.",
                value=max(0.0, (self._now - v.oldest_unfinished_job).total_seconds()),
            )
        if v.lease_expires is not None:
            # Each tick moves the lease `span` seconds ahead of its start, so the last tick
            # (in whichever process leads) started at expires - span.
            ticked = (self._now - v.lease_expires).total_seconds() + self._span
            yield GaugeMetricFamily(
                "fanloop_job_lag_seconds",
                "Seconds since the scheduler (in any process) last looked for due work; it "
                "ticks every 30 s, so more than a minute means scheduled work waits.",
                value=max(0.0, ticked),
            )
