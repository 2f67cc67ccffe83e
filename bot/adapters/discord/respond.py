"""Answering interactions within Discord's 3 seconds: answer at once, or defer and follow up.

The work of an interaction (context, command, button) starts at once. When it is done within
`ack_budget` seconds, its reply is the interaction's response. When it is not, the interaction
is deferred (a "thinking…" state for commands and forms, a silent acknowledgement for buttons)
and the reply follows when the work ends.

A burst (more interactions than `max_concurrency`) is acknowledged first and worked on after:
no new work starts while interactions still wait for their acknowledgement (for at most
`STORM_WAIT` seconds), because the database work would take the event loop from the 3-second
deadlines. Responses go out through a small gate by urgency (acknowledgements, then follow-ups,
then new work) so that a burst is acknowledged in arrival order rather than all at once and
all late. An interaction Discord gave up on before it was acknowledged is not worked on, so a
member told "this interaction failed" finds that nothing happened.

Each interaction is worked on and answered once (`redelivery`): a delivery of an interaction
this process saw before is dropped on arrival, before any await; the id is recorded in
`processed_events` right before the work runs, so a redelivery after a restart, or to another
process, is dropped there; and a deferral Discord refuses as "already acknowledged" means that
the interaction was answered elsewhere, so it is not worked on either.

Deferred commands think privately; a public reply then replaces the private placeholder by a
public follow-up, so a private answer (an error, a vote confirmation) is never shown to all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from asyncio import FIRST_COMPLETED
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import discord

from bot.adapters.discord.gate import ACK, ANSWER, EDIT, WORK, PriorityGate
from bot.adapters.discord.redelivery import Redeliveries
from bot.adapters.discord.render import Rendered, is_private, render
from bot.core.app import App
from bot.core.errors import log_unexpected
from bot.core.reply import Reply
from storage.platform.messages import MessagesRepo

log = logging.getLogger(__name__)

PLATFORM = "discord"
STORM_WAIT = 10.0  # seconds new work waits at most for a burst to be acknowledged
CALM_AFTER = 0.2  # seconds without an interaction waiting for its acknowledgement
ALREADY_ACKNOWLEDGED = 40060  # Discord's error code for a second response to an interaction


@dataclass(frozen=True)
class Tuning:
    ack_budget: float = 1.5  # seconds of work before an interaction is deferred
    max_concurrency: int = 32  # interactions worked on at once; more are deferred at once
    guild_ready_timeout: float = 2.0  # discord.py's wait for the guilds after READY
    reply_ttl: float = 30.0  # seconds a private answer to a plain message stays visible
    http_connections: int = 64  # kept-alive connections to Discord's REST API
    in_flight: int = 16  # responses on their way at once (acknowledgements first)
    edit_interval: float = 2.0  # seconds between two edits of one message's vote counts


@dataclass
class Outcome:
    reply: Reply
    community_id: int | None = None


Work = Callable[[], Awaitable[Outcome]]


class _Ticket:
    """One interaction on its way: acknowledged yet? given up by Discord (or answered by
    another delivery of it)?"""

    __slots__ = ("expired", "pending")

    def __init__(self) -> None:
        self.pending = True  # not acknowledged (nor given up) yet
        self.expired = False


class Responder:
    def __init__(self, app: App, tuning: Tuning) -> None:
        self.app = app
        self.tuning = tuning
        self.messages = MessagesRepo(app.engine)
        self.redeliveries = Redeliveries(self.messages, app.clock)
        self._gate = asyncio.Semaphore(tuning.max_concurrency)
        self._http = PriorityGate(tuning.in_flight)
        self._admitted = 0  # interactions between arrival and answer
        self._overloaded = asyncio.Event()  # more admitted than worked on at once
        self._unacknowledged = 0
        self._calm = asyncio.Event()  # set when no interaction waits for its acknowledgement
        self._calm.set()
        self._calm_timer: asyncio.TimerHandle | None = None
        self.missed = 0  # interactions that expired before they were acknowledged
        self._missed_logged = -10.0

    def redelivered(self, interaction: discord.Interaction, where: str) -> bool:
        """True (and logged) when this process saw the interaction before; checked before any
        await, so two deliveries arriving together are told apart."""
        if not self.redeliveries.again(interaction.id):
            return False
        self._skipped(interaction, where)
        return True

    def _skipped(self, interaction: discord.Interaction, where: str) -> None:
        log.info("interaction %s (%s) was delivered again: not run again", interaction.id, where)

    async def answer(self, interaction: discord.Interaction, work: Work, where: str) -> None:
        if self.redelivered(interaction, where):
            return
        # Counted on arrival, before any await: a burst arrives within one turn of the loop.
        ticket = self._arrived()
        locale = interaction.locale.value
        burst = self._overloaded.is_set()
        deferred: bool | None
        try:
            if burst:
                deferred = await self._defer(interaction, ticket, where)
                if deferred is None:
                    return
                await self._after_burst()
                outcome = await self._run(interaction, work, ticket, locale, where)
            else:
                task = asyncio.create_task(self._run(interaction, work, ticket, locale, where))
                # Answer directly if the work is quick; defer once the budget is spent, or as
                # soon as a burst makes the work wait.
                overload = asyncio.create_task(self._overloaded.wait())
                done, _ = await asyncio.wait(
                    {task, overload}, timeout=self.tuning.ack_budget, return_when=FIRST_COMPLETED
                )
                overload.cancel()
                burst = task not in done and self._overloaded.is_set()
                deferred = False if task in done else await self._defer(interaction, ticket, where)
                outcome = await task
                if deferred is None:
                    return
        finally:
            self._admitted -= 1
            if self._admitted <= self.tuning.max_concurrency:
                self._overloaded.clear()
            self._settle(ticket, expired=False)
        if burst:  # follow-ups have 15 minutes: the burst's acknowledgements go first
            await self._after_burst()
        await self._answer(interaction, outcome, deferred, where)

    def _arrived(self) -> _Ticket:
        self._admitted += 1
        if self._admitted > self.tuning.max_concurrency:
            self._overloaded.set()
        self._unacknowledged += 1
        self._calm.clear()
        if self._calm_timer is not None:
            self._calm_timer.cancel()
            self._calm_timer = None
        return _Ticket()

    def _quiet(self) -> None:
        """Calm once nothing waited for an acknowledgement for CALM_AFTER seconds: within a
        burst the count touches zero between two clicks, and that is no calm yet."""
        self._calm_timer = None
        if self._unacknowledged == 0:
            self._calm.set()

    def _settle(self, ticket: _Ticket, *, expired: bool, elsewhere: bool = False) -> None:
        """The interaction was acknowledged, answered, given up by Discord (`expired`), or
        answered by another delivery of it (`elsewhere`)."""
        if not ticket.pending:
            return
        ticket.pending = False
        ticket.expired = expired or elsewhere
        self._unacknowledged -= 1
        if self._unacknowledged == 0 and self._calm_timer is None:
            self._calm_timer = asyncio.get_running_loop().call_later(CALM_AFTER, self._quiet)
        if expired:
            self.missed += 1
            now = time.monotonic()
            if now - self._missed_logged >= 10:  # an overload would flood the log
                log.warning("%d interactions expired before they were acknowledged", self.missed)
                self._missed_logged = now

    async def _after_burst(self) -> None:
        if not self._calm.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._calm.wait(), STORM_WAIT)

    async def quiet(self) -> None:
        """Wait until a burst is acknowledged and nothing more urgent than an edit waits."""
        await self._after_burst()
        await self._http.turn(EDIT)

    def slot(self, priority: int) -> contextlib.AbstractAsyncContextManager[None]:
        """A place among the responses on their way, by `priority` (see `gate`)."""
        return self._http.slot(priority)

    async def reject(self, interaction: discord.Interaction, reply: Reply) -> None:
        """Answer at once with a reply that needed no work (an error before a form, say)."""
        await self._answer(interaction, Outcome(reply), False, "reject")

    async def _answer(
        self, interaction: discord.Interaction, outcome: Outcome | None, deferred: bool, where: str
    ) -> None:
        if outcome is None:
            return
        try:
            await self._deliver(interaction, outcome, deferred)
        except discord.HTTPException as exc:
            log.warning("could not answer interaction %s: %s", interaction.id, exc)
        except Exception as exc:  # a reply that cannot be rendered: say so, never hang
            ref = log_unexpected(exc, f"answering {where}")
            text = self.app.translator(interaction.locale.value, "error.unexpected", ref=ref)
            error = render(Reply(text=text, ephemeral=True, error=True))
            with contextlib.suppress(discord.HTTPException):
                if interaction.response.is_done():
                    await interaction.followup.send(ephemeral=True, **error.send())
                else:
                    await interaction.response.send_message(ephemeral=True, **error.send())

    async def _run(
        self,
        interaction: discord.Interaction,
        work: Work,
        ticket: _Ticket,
        locale: str,
        where: str,
    ) -> Outcome | None:
        await self._http.turn(WORK)  # acknowledgements and answers waiting go first
        async with self._gate:
            if ticket.expired:  # Discord told the member it failed, or it was answered elsewhere
                return None
            try:
                # Recorded right before the work: a crash in between loses this interaction,
                # which Discord then shows as failed; recorded after, two deliveries could both
                # act (see docs/discord.md).
                if await self.redeliveries.recorded_before(interaction.id):
                    self._skipped(interaction, where)
                    return None
                return await work()
            except Exception as exc:
                ref = log_unexpected(exc, where)
                text = self.app.translator(locale, "error.unexpected", ref=ref)
                return Outcome(Reply(text=text, ephemeral=True, error=True))

    async def _defer(
        self, interaction: discord.Interaction, ticket: _Ticket, where: str
    ) -> bool | None:
        """Acknowledge now; None when Discord no longer knows the interaction, or when it was
        acknowledged already (another delivery of it)."""
        try:
            async with self._http.slot(ACK):
                if interaction.type is discord.InteractionType.component:
                    await interaction.response.defer()
                else:
                    await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.NotFound:
            self._settle(ticket, expired=True)
            return None
        except discord.HTTPException as exc:
            if exc.code != ALREADY_ACKNOWLEDGED:
                raise
            # Another delivery of this interaction was answered (before a restart, or by
            # another process): that one acts, not this one.
            self._settle(ticket, expired=False, elsewhere=True)
            self._skipped(interaction, where)
            return None
        self._settle(ticket, expired=False)
        return True

    async def _deliver(
        self, interaction: discord.Interaction, outcome: Outcome, deferred: bool
    ) -> None:
        reply = outcome.reply
        private = is_private(reply)
        out = render(reply)
        message: discord.Message | None = None
        if not deferred:
            async with self._http.slot(ACK):
                response = await interaction.response.send_message(ephemeral=private, **out.send())
            if isinstance(response.resource, discord.InteractionMessage):
                message = response.resource
        else:
            async with self._http.slot(ANSWER):
                message = await self._follow_up(interaction, out, private)
        await self.remember(interaction, outcome, message)

    async def _follow_up(
        self, interaction: discord.Interaction, out: Rendered, private: bool
    ) -> discord.Message:
        if interaction.type is discord.InteractionType.component:
            return await interaction.followup.send(ephemeral=private, wait=True, **out.send())
        if private:
            return await interaction.edit_original_response(**out.edit())
        await interaction.delete_original_response()
        return await interaction.followup.send(wait=True, **out.send())

    async def remember(
        self, interaction: discord.Interaction, outcome: Outcome, message: discord.Message | None
    ) -> None:
        """Record what a sent message is about, so replies and DM buttons route after a restart."""
        reply = outcome.reply
        if message is None or outcome.community_id is None or interaction.channel_id is None:
            return
        in_dm = interaction.guild_id is None
        has_controls = bool(reply.buttons or reply.select)
        if (reply.subject and not is_private(reply)) or (in_dm and (reply.subject or has_controls)):
            await self.messages.remember(
                PLATFORM,
                str(interaction.channel_id),
                str(message.id),
                reply.subject or "",
                outcome.community_id,
                self.app.clock.now(),
            )
