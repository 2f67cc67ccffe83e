"""What a cog's `setup(feature)` receives: the registries it adds to and the shared
infrastructure its services are built from.

Every cog follows one pattern. `setup` builds the cog's services, passing each the pieces of
infrastructure it uses (constructor injection: the engine, the clock, the outbox, …), registers
them with `services.add`, declares its community settings, commands and actions, and adds its
time-driven work, shutdown hooks, contribution source, account merger and content check.
Handlers then reach the services per request through the `Context` (`ctx.service(T)`), never
through the App.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.core.accounts import AccountMerger, ContentCheck
from bot.core.clock import Clock
from bot.core.events import Events, Sink
from bot.core.i18n import Translator
from bot.core.outbox import Outbox
from bot.core.participation import ContributionSource
from bot.core.retention import Purge
from bot.core.settings import SettingsService
from storage.core.jobs import JobsRepo

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.core.app import App
    from bot.core.context import Context
    from config.settings import FanloopSettings

Hook = Callable[[], Awaitable[None]]
# A long-running worker: runs until the event is set (then finishes what is under way).
Worker = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
# (who asks, what: `cmd:<name>`, `act:<prefix>` or `reply:<subject prefix>`) -> None, or a
# UserError that refuses it (a muted member's vote). Run by the dispatcher after the role check.
AdmissionCheck = Callable[["Context", str], Awaitable[None]]


@dataclass(frozen=True)
class DueWorkTools:
    """What a cog's time-driven work uses: the clock, exactly-once job runs, the outbox and the
    catalogs to tell people, and the community settings (time zone, schedule)."""

    clock: Clock
    jobs: JobsRepo
    outbox: Outbox
    translator: Translator
    settings: SettingsService
    # What happened, for listeners outside the chat (webhooks): emitted once a change is told.
    events: Events | None = None


class FeatureSetup:
    """One cog's view of the App while it sets up."""

    def __init__(self, app: App) -> None:
        self._app = app
        # The process configuration (e.g. the duplicate-detection model).
        self.config: FanloopSettings = app.settings
        # Registries the cog adds to.
        self.commands = app.commands
        self.actions = app.actions
        self.services = app.services
        # Community settings: declared at setup, read per community by the services.
        self.settings = app.community_settings
        # Shared infrastructure a service may take.
        self.engine: AsyncEngine = app.engine
        self.clock = app.clock
        self.outbox = app.outbox
        self.translator = app.translator
        self.identity = app.identity
        self.jobs = app.jobs
        # The process's metrics (bot.core.metrics), for a service that counts what it decides.
        self.metrics = app.metrics
        # What other processes on the same database change (bot/core/change_feed.py), for a
        # service that keeps something in memory.
        self.changes = app.changes
        # How posts about a subject look now, for the adapters that edit them (bot.core.posts).
        self.posts = app.posts
        # What happened, emitted by the cogs for listeners outside the chat (bot/core/events.py).
        self.events: Events = app.events

    @property
    def due_work_tools(self) -> DueWorkTools:
        """The infrastructure time-driven work takes, in one piece."""
        return DueWorkTools(
            self.clock, self.jobs, self.outbox, self.translator, self.settings, self.events
        )

    @property
    def contribution_sources(self) -> Sequence[ContributionSource]:
        """Every cog's contribution source (filled while the cogs load; read at run time)."""
        return self._app.contribution_sources

    @property
    def account_mergers(self) -> Sequence[AccountMerger]:
        """Every cog's account merger (filled while the cogs load; read at run time)."""
        return self._app.account_mergers

    @property
    def content_checks(self) -> Sequence[ContentCheck]:
        """Every cog's check of whether a community holds its content (read at run time)."""
        return self._app.content_checks

    def add_content_check(self, check: ContentCheck) -> None:
        """Say whether a community holds this cog's content (a space with content may not
        `/join` another community)."""
        self._app.content_checks.append(check)

    def add_due_work(self, work: Hook) -> None:
        """Time-driven work: the scheduler runs it every tick, and so does the console's
        /advance."""
        self._app.due_work.append(work)

    def add_retention(self, name: str, purge: Purge) -> None:
        """Rows this cog no longer needs after `retention_days`: the scheduler's hourly clean-up
        calls `purge(cut_off)` (see bot/core/retention.py); `name` labels its count in the log."""
        self._app.retention_purges.append((name, purge))

    def add_event_sink(self, sink: Sink) -> None:
        """Hear every event any cog emits (see bot/core/events.py)."""
        self._app.events.add_sink(sink)

    def add_worker(self, worker: Worker) -> None:
        """A long-running worker of the serving process (an outbox's deliveries), started with
        the process and stopped before it closes."""
        self._app.workers.append(worker)

    def on_shutdown(self, hook: Hook) -> None:
        """Run when the App closes (in reverse order of registration)."""
        self._app.shutdown_hooks.append(hook)

    def add_contribution_source(self, source: ContributionSource) -> None:
        """The contributions this cog's tables hold, for the participation record."""
        self._app.contribution_sources.append(source)

    def add_admission_check(self, check: AdmissionCheck) -> None:
        """Refuse some commands, buttons or replies to some members (see `AdmissionCheck`)."""
        self._app.admission_checks.append(check)

    def add_account_merger(self, merger: AccountMerger) -> None:
        """Move this cog's rows from one account to another when a member links accounts."""
        self._app.account_mergers.append(merger)
