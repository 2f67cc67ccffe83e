"""Wiring: one App per process owns the engine, registries, services, outbox and clock.

The App is the composition root: cogs never see it. Each cog's `setup` gets a `FeatureSetup`
(bot.core.feature) and each handler a `Context` (bot.core.context), which expose what they may
use; adapters and the command line hold the App itself.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.accounts import AccountMerger, ContentCheck
from bot.core.actions import ActionRegistry
from bot.core.audit import AuditLog
from bot.core.change_feed import ChangeFeed
from bot.core.clock import Clock, SystemClock
from bot.core.commands import CommandRegistry, Role
from bot.core.context import Community, Context, Member, Receipt
from bot.core.dispatch import storable
from bot.core.events import Events
from bot.core.feature import AdmissionCheck, FeatureSetup, Hook, Worker
from bot.core.health import PlatformHealth
from bot.core.i18n import Translator, normalize_locale
from bot.core.identity_cache import IdentityCache
from bot.core.metrics import Metrics
from bot.core.outbox import Outbox
from bot.core.participation import ContributionSource
from bot.core.posts import PostViews
from bot.core.ratelimit import LocalRateLimits, RateLimiter, RateLimits, SharedRateLimits
from bot.core.retention import Purge
from bot.core.services import ServiceRegistry
from bot.core.settings import SettingsService
from bot.core.web_links import WebLinks
from config.settings import FanloopSettings
from storage.core.audit import AuditRepo
from storage.core.identity import TOPIC as IDENTITY_TOPIC
from storage.core.identity import IdentityChange, IdentityRepo
from storage.core.jobs import JobsRepo
from storage.core.outbox import OutboxRepo
from storage.core.rate_limits import RateLimitRepo
from storage.core.settings import SettingsRepo
from storage.engine import create_engine, default_sqlite_url
from storage.migrate import require_current, upgrade

log = logging.getLogger(__name__)

# How often a member's `last_seen_at` in a community is brought up to date.
SEEN_EVERY = timedelta(minutes=5)


class App:
    def __init__(self, settings: FanloopSettings, engine: AsyncEngine, clock: Clock) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock
        # What operators watch (GET /metrics, GET /healthz): counted in memory, per App.
        self.metrics = Metrics()
        self.health = PlatformHealth()
        self.commands = CommandRegistry()
        self.actions = ActionRegistry()
        self.services = ServiceRegistry()
        self.translator = Translator()
        self.translator.load_package("bot.core")
        # What other processes on the same database change, for what this one keeps in memory
        # (bot/core/change_feed.py); started with the process (`start_feed`).
        self.changes = ChangeFeed(engine)
        self.identity = IdentityRepo(engine)
        # Known members resolved from memory (per process, entries live a few seconds, and
        # are forgotten when any process links, merges or changes them).
        self.identity_cache = IdentityCache(self.identity, clock, seen_every=SEEN_EVERY)
        self.changes.subscribe(
            IDENTITY_TOPIC, lambda data: self.identity.changed(IdentityChange.from_message(data))
        )
        self.changes.on_resync(self.identity_cache.clear)
        self.community_settings = SettingsService(SettingsRepo(engine))
        self.outbox = Outbox(OutboxRepo(engine), self.identity, clock, self.community_locale)
        # "View on the web" links on messages about a page of the community's site.
        self.web_links = WebLinks(
            self.community_settings, lambda: self.settings.web_base_url, self.translator
        )
        self.outbox.decorate = self.web_links.apply
        # Per-member limits: in memory with SQLite's one process, in the database otherwise.
        self.rate_limits: RateLimits = (
            SharedRateLimits(RateLimitRepo(engine), clock)
            if self.changes.shared
            else LocalRateLimits(RateLimiter(clock))
        )
        from bot.core.dispatch import Dispatcher

        self.dispatcher = Dispatcher(self)
        self.posts = PostViews()
        self.posts.decorate = self.web_links.apply
        self.posts.elsewhere = self.outbox.edit_posts
        # What admins and owners did, written by the dispatcher (bot/core/audit.py).
        self.audit = AuditLog(AuditRepo(engine), clock)
        # Checks a cog adds before commands, buttons and replies (a muted member's vote).
        self.admission_checks: list[AdmissionCheck] = []
        # Time-driven work: the scheduler runs it, and so does the console's /advance.
        self.due_work: list[Hook] = []
        # The features' clean-ups of old rows, run by the scheduler's retention.
        self.retention_purges: list[tuple[str, Purge]] = []
        self.shutdown_hooks: list[Hook] = []
        # What happened, for sinks outside the chat (bot/core/events.py), and the cogs'
        # long-running workers (started with `start_feed`, stopped by `close`).
        self.events = Events(clock)
        self.workers: list[Worker] = []
        self._worker_stop = asyncio.Event()
        self._worker_tasks: list[asyncio.Task[None]] = []
        self.jobs = JobsRepo(engine)
        # Contracts between cogs (bot.core.participation, bot.core.accounts).
        self.contribution_sources: list[ContributionSource] = []
        self.account_mergers: list[AccountMerger] = []
        self.content_checks: list[ContentCheck] = []
        self.cogs: list[str] = []

    @classmethod
    async def create(
        cls,
        settings: FanloopSettings,
        clock: Clock | None = None,
        *,
        engine: AsyncEngine | None = None,
        migrate: bool = True,
    ) -> App:
        """The App on `engine` (by default one on the configured database). With `migrate`,
        the schema is first brought up to date (`auto_migrate`, the default) or checked to be
        current; `storage.migrate.SchemaError` says why it cannot start on this database."""
        own = engine is None
        if engine is None:
            url = settings.database_url or default_sqlite_url(settings.data_dir)
            engine = create_engine(
                url,
                pool_size=settings.database_pool_size,
                max_overflow=settings.database_max_overflow,
            )
        if migrate:
            try:
                if settings.auto_migrate:
                    await upgrade(engine)
                else:
                    await require_current(engine)
            except BaseException:
                if own:
                    await engine.dispose()
                raise
        app = cls(settings, engine, clock or SystemClock())
        app.load_cogs(settings.cogs)
        return app

    def load_cogs(self, names: list[str]) -> None:
        from bot.core import builtin_settings

        builtin_settings.declare(self.community_settings, self.settings)
        for name in names:
            module = importlib.import_module(name)
            setup = getattr(module, "setup", None)
            if setup is None:
                raise RuntimeError(f"cog {name} has no setup(feature)")
            setup(FeatureSetup(self))
            self.translator.load_package(name)
            self.cogs.append(name)

    def start_feed(self) -> None:
        """Hear what other processes change (PostgreSQL; nothing to hear on SQLite), and start
        the cogs' workers. A serving process calls this once it is set up; `close` stops both."""
        self.changes.start()
        if not self._worker_tasks:
            self._worker_stop.clear()
            self._worker_tasks = [
                asyncio.create_task(w(self._worker_stop), name=f"worker-{n}")
                for n, w in enumerate(self.workers)
            ]

    async def stop_workers(self, grace: float = 5.0) -> None:
        """Ask the workers to stop, give them `grace` seconds, then cancel them."""
        tasks, self._worker_tasks = self._worker_tasks, []
        if not tasks:
            return
        self._worker_stop.set()
        self.outbox.wake.set()
        await asyncio.wait(tasks, timeout=grace)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        await self.posts.settle()
        await self.stop_workers()
        await self.changes.stop()
        for hook in reversed(self.shutdown_hooks):
            try:
                await hook()
            except Exception:
                log.exception("shutdown hook")
        await self.identity_cache.flush()
        await self.engine.dispose()

    async def run_due(self) -> None:
        """Run every piece of time-driven work that is due now."""
        for hook in self.due_work:
            try:
                await hook()
            except Exception:
                self.metrics.scheduled_work_failures.inc()
                log.exception("scheduled work failed")

    # -- community helpers --------------------------------------------------------------------

    async def community_locale(self, community_id: int) -> str:
        return await self.community_settings.language(community_id)

    async def community_tz(self, community_id: int) -> ZoneInfo:
        return await self.community_settings.timezone(community_id)

    async def context(
        self,
        *,
        platform: str,
        space_id: str,
        space_name: str,
        user_id: str,
        display_name: str,
        role: Role,
        locale_hint: str | None = None,
        receipt: Receipt | None = None,
    ) -> Context:
        """Resolve who acts and where: a member seen in the last seconds from memory, with no
        transaction (bot/core/identity_cache.py); the others waiting at the same moment are
        read together, and the ones seen for the first time (account, community, membership)
        created together in one transaction. The membership's `last_seen_at` moves at most
        every SEEN_EVERY."""
        display_name, space_name = storable(display_name), storable(space_name)
        now = self.clock.now()
        found = await self.identity_cache.resolve(
            platform, user_id, display_name, space_id, space_name, now
        )
        ident, cid = found.identity, found.community_id
        locale = found.locale or normalize_locale(locale_hint) or await self.community_locale(cid)
        member = Member(ident.account_id, ident.display_name, role, platform, user_id)
        community = Community(cid, found.community_name)
        return Context(self, member, community, locale, platform, space_id, receipt=receipt)
