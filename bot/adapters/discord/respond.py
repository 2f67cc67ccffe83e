"""Answering interactions within Discord's 3 seconds, each once: acknowledge first, then work.

When nothing is waiting (the calm case), the work of an interaction starts at once; when it is
done within `ack_budget` seconds, its reply is the interaction's one response, else the
interaction is deferred (a "thinking…" state for commands and forms, a silent acknowledgement
for buttons) and the reply follows when the work ends.

Otherwise (a burst: interactions waiting for their acknowledgement, more than
`QUICK_AT_ONCE` read from the gateway together, or more than `max_concurrency` at work) an
interaction is acknowledged first (`acks`: stamped on arrival,
newest first when the queue is old, nothing sent once it is too old) and its work starts only
after that acknowledgement was accepted, so a member Discord showed "This interaction failed"
finds that nothing happened. New work waits until the burst is acknowledged (at most
`STORM_WAIT` seconds): the database work would otherwise take the event loop from the
deadlines. When acknowledged work has waited longer than `busy_after`, new interactions get a
fast "busy, try again" instead of joining the queue.

Each interaction acts once (see docs/discord.md): a delivery this process saw before is dropped
on arrival (`redelivery`), before any await; an accepted acknowledgement makes this delivery the
owner (Discord takes one response per interaction: another delivery is told "already
acknowledged" and does nothing); only the calm case, whose work starts before any response,
records the interaction in `processed_events` first.

Follow-ups, edits of the deferred response and the single responses go out on the same session
with bodies built here (discord.py only for messages with a file). Deferred commands think
privately; a public reply then replaces the private placeholder by a public follow-up, so a
private answer (an error, a vote confirmation) is never shown to all.

A public reply Discord cannot take now (a 429 past the waits, a 5xx, no answer) is kept in the
outbox and posted in the interaction's channel later (`outage`); the member is told privately.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from asyncio import FIRST_COMPLETED
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord

from bot.adapters.discord.acks import COMPONENT, Ack, Acknowledger, Arrival, message_body
from bot.adapters.discord.gate import ANSWER, EDIT, WORK, PriorityGate
from bot.adapters.discord.outage import LaterPosts, Unavailable, outage, unavailable
from bot.adapters.discord.redelivery import Redeliveries, event_id
from bot.adapters.discord.render import NO_MENTIONS, Rendered, is_private, render
from bot.adapters.http1 import HttpError
from bot.core.app import App
from bot.core.context import Receipt
from bot.core.errors import log_unexpected
from bot.core.reply import Reply
from storage.platform.messages import MessagesRepo

log = logging.getLogger(__name__)

PLATFORM = "discord"
STORM_WAIT = 10.0  # seconds new work waits at most for a burst to be acknowledged
CALM_AFTER = 0.2  # seconds without an interaction waiting for its acknowledgement
EPHEMERAL = 64
QUICK_AT_ONCE = 4  # interactions worked on before any response, at most at once
API_BASE = "https://discord.com/api/v10"


@dataclass(frozen=True)
class Tuning:
    ack_budget: float = 1.5  # seconds of work before an interaction is deferred
    # Interactions worked on at once; more are acknowledged first. A burst's writes are committed
    # together, so a batch is as large as the work in flight: 32 gave 490 interactions/s, 256
    # gave over 1,000 (docs/bursts.md).
    max_concurrency: int = 256
    guild_ready_timeout: float = 2.0  # discord.py's wait for the guilds after READY
    reply_ttl: float = 30.0  # seconds a private answer to a plain message stays visible
    http_connections: int = 64  # kept-alive connections to Discord's REST API
    in_flight: int = 16  # follow-ups and edits on their way at once
    edit_interval: float = 2.0  # seconds between two edits of one message's vote counts
    acks_in_flight: int = 32  # acknowledgements on their way at once
    ack_give_up: float = 2.5  # seconds after arrival past which nothing is sent (Discord: 3)
    lifo_after: float = 1.0  # once the oldest waiting is older, acknowledge newest first
    busy_after: float = 120.0  # acknowledged work waiting longer: new interactions are refused
    answer_within: float = 840.0  # a follow-up token lasts 15 minutes: work later is not done
    # Seconds a shard waits before its IDENTIFY after the process's first one: Discord starts
    # one session per 5 seconds (per `max_concurrency` bucket) and refuses a faster start.
    identify_interval: float = 5.0


@dataclass
class Outcome:
    reply: Reply
    community_id: int | None = None
    # The service recorded the delivery's receipt with its effect (`Context.receipt_recorded`).
    receipt_recorded: bool = False


Work = Callable[[], Awaitable[Outcome]]


class Incoming:
    """One delivery of an interaction: its arrival, its payload, and the discord.py
    `Interaction`, built only when the work needs it (not to acknowledge it)."""

    __slots__ = ("_build", "_interaction", "arrival", "channel_id", "data", "guild_id", "owned")

    def __init__(
        self,
        arrival: Arrival,
        payload: dict[str, Any],
        build: Callable[[], discord.Interaction] | None = None,
        interaction: discord.Interaction | None = None,
    ) -> None:
        """`payload`: the gateway event's (`data` is its inner `data`)."""
        self.arrival = arrival
        self.data: dict[str, Any] = dict(payload.get("data") or {})
        self.guild_id = _str(payload.get("guild_id"))
        self.channel_id = _str(payload.get("channel_id"))
        self._build, self._interaction = build, interaction
        self.owned = False  # acknowledged by this delivery before its work started

    @classmethod
    def of(cls, interaction: discord.Interaction, at: float | None = None) -> Incoming:
        """From an interaction discord.py built already (a slash command)."""
        arrival = Arrival(
            interaction.id,
            interaction.token,
            interaction.type.value,
            str(interaction.application_id),
            interaction.locale.value,
            time.monotonic() if at is None else at,
        )
        payload: dict[str, Any] = {
            "data": interaction.data or {},
            "guild_id": interaction.guild_id,
            "channel_id": interaction.channel_id,
        }
        return cls(arrival, payload, interaction=interaction)

    @property
    def interaction(self) -> discord.Interaction:
        if self._interaction is None:
            assert self._build is not None
            self._interaction = self._build()
        return self._interaction

    @property
    def id(self) -> int:
        return self.arrival.id

    @property
    def receipt(self) -> Receipt | None:
        """The receipt the work passes to `App.context`: only when this delivery owns the
        interaction (acknowledged first). In the calm case the adapter records the id itself
        before the work, and a service must not find it as someone else's."""
        return Receipt(PLATFORM, event_id(self.arrival.id)) if self.owned else None

    @property
    def locale(self) -> str:
        return self.arrival.locale


class Responder:
    def __init__(self, app: App, tuning: Tuning) -> None:
        self.app = app
        self.tuning = tuning
        self.messages = MessagesRepo(app.engine)
        self.redeliveries = Redeliveries(self.messages, app.clock)
        self.acks = Acknowledger(
            app.settings.discord_api_base or API_BASE,
            sending=tuning.acks_in_flight,
            give_up=tuning.ack_give_up,
            lifo_after=tuning.lifo_after,
            connections=tuning.http_connections,
            calm_after=CALM_AFTER,
            answered=functools.partial(app.metrics.answered, PLATFORM),
            missed=functools.partial(app.metrics.missed, PLATFORM),
        )
        self._gate = asyncio.Semaphore(tuning.max_concurrency)
        self._http = PriorityGate(tuning.in_flight)
        self._admitted = 0  # interactions between arrival and answer
        # Acknowledged, work not started: (interaction, work, where, acknowledged when).
        self._work: deque[tuple[Incoming, Work, str, float]] = deque()
        self._work_ready = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self._busy_bodies: dict[str, bytes] = {}
        self._quick_now = 0  # interactions of the calm case on their way
        # Read since the loop's last turn, not admitted yet: (interaction, work, where).
        self._arrived: list[tuple[Incoming, Work, str]] = []
        self._burst = asyncio.Event()  # set when an interaction had to be acknowledged first
        self.busy = 0  # interactions answered "busy, try again"
        self.elsewhere = 0  # deliveries another delivery of the same interaction answered
        self._tasks: set[asyncio.Task[None]] = set()
        self.later = LaterPosts(app)  # public replies kept for when Discord answers again

    @property
    def missed(self) -> int:
        """Interactions that expired before they were acknowledged."""
        return self.acks.expired

    def redelivered(self, interaction_id: int, where: str) -> bool:
        """True (and logged) when this process saw the interaction before; checked before any
        await, so two deliveries arriving together are told apart."""
        if not self.redeliveries.again(interaction_id):
            return False
        self._skipped(interaction_id, where)
        return True

    def _skipped(self, interaction_id: int, where: str) -> None:
        log.info("interaction %s (%s) was delivered again: not run again", interaction_id, where)

    def _calm(self, arrival: Arrival) -> bool:
        """Nothing waits for an acknowledgement, few are worked on before theirs (the first
        clicks of a burst arrive while it is calm: they must stay few), and this one is fresh."""
        return (
            self.acks.idle
            and self._admitted < self.tuning.max_concurrency
            and self._quick_now < QUICK_AT_ONCE
            and arrival.age() < self.tuning.ack_budget / 2
        )

    def _overloaded(self) -> bool:
        """Acknowledged work has waited longer than `busy_after`."""
        return bool(self._work) and time.monotonic() - self._work[0][3] > self.tuning.busy_after

    def admit(self, incoming: Incoming, work: Work, where: str) -> None:
        """An interaction arrived: see that it is answered, and worked on once. Called before
        any await (and costs no task while it waits for its acknowledgement).

        Whether it is calm is decided at the loop's next turn, with every interaction read
        in the same stretch: discord.py reads all the gateway frames it has before it yields,
        so a burst arrives in stretches of hundreds. More than `QUICK_AT_ONCE` read together
        are a burst from its first click: none of them is worked on before its
        acknowledgement (worked on first, the first few of a burst opened database
        connections while the rest of it was being read, and delayed every acknowledgement;
        docs/bursts.md)."""
        self._arrived.append((incoming, work, where))
        if len(self._arrived) == 1:
            asyncio.get_running_loop().call_soon(self._admit_arrived)

    def _admit_arrived(self) -> None:
        arrived, self._arrived = self._arrived, []
        together = len(arrived) > QUICK_AT_ONCE
        for incoming, work, where in arrived:
            arrival = incoming.arrival
            if not together and self._calm(arrival):
                self._burst.clear()
                self._admitted += 1
                self._quick_now += 1
                self._spawn(self._answer_calm(incoming, work, where))
            elif self._overloaded():
                self._refuse(incoming)
            else:
                self._burst.set()
                self._admitted += 1
                ack = self.acks.acknowledge(arrival)
                ack.add_done_callback(functools.partial(self._acknowledged, incoming, work, where))

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _acknowledged(
        self, incoming: Incoming, work: Work, where: str, ack: asyncio.Future[Ack]
    ) -> None:
        if ack.cancelled() or not self._owned(ack.result(), incoming, where):
            self._admitted -= 1
            return
        self._work.append((incoming, work, where, time.monotonic()))
        self._work_ready.set()
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._work_forever())
                for _ in range(self.tuning.max_concurrency)
            ]

    async def _work_forever(self) -> None:
        """One of `max_concurrency` workers on acknowledged interactions, oldest first, once
        the burst is acknowledged (a fixed pool: no task per interaction waits)."""
        while True:
            if not self._work:
                self._work_ready.clear()
                await self._work_ready.wait()
                continue
            await self._after_burst()  # follow-ups have 15 minutes: acks go first
            if not self._work:
                continue
            incoming, work, where, _ = self._work.popleft()
            try:
                outcome = await self._run(incoming, work, where, owned=True)
                if outcome is not None:
                    await self._answer(incoming, outcome, where)
            except Exception as exc:  # a worker must not die
                log_unexpected(exc, where)
            finally:
                self._admitted -= 1

    async def _answer_calm(self, incoming: Incoming, work: Work, where: str) -> None:
        try:
            outcome = await self._quick(incoming, work, where)
        finally:
            self._admitted -= 1
            self._quick_now -= 1
        if outcome is not None:
            await self._answer(incoming, outcome, where)

    def _owned(self, ack: Ack, incoming: Incoming, where: str) -> bool:
        if ack is Ack.ELSEWHERE:
            # Another delivery of this interaction was answered (before a restart, or by
            # another process): that one acts, not this one.
            self.elsewhere += 1
            self._skipped(incoming.id, where)
        return ack is Ack.DONE

    async def _quick(self, incoming: Incoming, work: Work, where: str) -> Outcome | None:
        """Work at once; answer with one response when done within the budget (None: answered),
        else defer and return the outcome to follow up with. The deferral goes at once when a
        burst starts meanwhile, and before the burst's acknowledgements: this work may already
        be committed, so this interaction must not be the one that misses its deadline."""
        task = asyncio.create_task(self._run(incoming, work, where, owned=False))
        budget = max(0.0, self.tuning.ack_budget - incoming.arrival.age())
        burst = asyncio.create_task(self._burst.wait())
        done, _ = await asyncio.wait({task, burst}, timeout=budget, return_when=FIRST_COMPLETED)
        burst.cancel()
        if task in done:
            outcome = task.result()
            if outcome is not None:
                await self._respond(incoming, outcome, first=True)
            return None  # answered (or nothing to answer)
        ack = await self.acks.acknowledge(incoming.arrival, first=True)
        if ack is Ack.EXPIRED:
            log.warning("interaction %s: worked on, but its deferral came too late", incoming.id)
        outcome = await task
        if outcome is not None and ack in (Ack.UNAVAILABLE, Ack.EXPIRED):
            # The work is done but the interaction could not be answered: a post is kept for
            # the outbox (no notice: this interaction takes no response any more, or already
            # took the deferral whose answer was lost, and then its placeholder stays).
            await self.later.park(
                outcome.reply, outcome.community_id, incoming.channel_id, ack.value
            )
            return None
        if outcome is None or not self._owned(ack, incoming, where):
            return None
        return outcome

    def _refuse(self, incoming: Incoming) -> None:
        """Too much acknowledged work is waiting: a fast, private "busy, try again"."""
        locale = incoming.locale
        body = self._busy_bodies.get(locale)
        if body is None:
            text = self.app.translator(locale, "discord.busy")
            body = message_body(
                {"content": text, "flags": EPHEMERAL, "allowed_mentions": NO_MENTIONS.to_dict()}
            )
            self._busy_bodies[locale] = body
        self.acks.acknowledge(incoming.arrival, body).add_done_callback(self._refused)

    def _refused(self, ack: asyncio.Future[Ack]) -> None:
        if not ack.cancelled() and ack.result() is Ack.DONE:
            self.busy += 1

    async def _after_burst(self) -> None:
        if not self.acks.calm.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STORM_WAIT):
                    await self.acks.calm.wait()

    async def quiet(self) -> None:
        """Wait until a burst is acknowledged and nothing more urgent than an edit waits."""
        await self._after_burst()
        await self._http.turn(EDIT)

    def slot(self, priority: int) -> contextlib.AbstractAsyncContextManager[None]:
        """A place among the responses on their way, by `priority` (see `gate`)."""
        return self._http.slot(priority)

    async def reject(self, incoming: Incoming, reply: Reply) -> None:
        """Answer at once with a reply that needed no work (an error before a form, say)."""
        await self._respond(incoming, Outcome(reply))

    async def _run(
        self, incoming: Incoming, work: Work, where: str, *, owned: bool
    ) -> Outcome | None:
        await self._http.turn(WORK)  # answers waiting go first
        async with self._gate:
            try:
                if incoming.arrival.age() > self.tuning.answer_within:
                    # Its follow-up would come too late for Discord: do nothing, say so.
                    text = self.app.translator(incoming.locale, "discord.busy")
                    return Outcome(Reply(text=text, ephemeral=True, error=True))
                # Not acknowledged yet (the calm case): recorded right before the work, so a
                # delivery elsewhere does not act too; a crash in between loses this one
                # interaction, which Discord then shows as failed (see docs/discord.md).
                if not owned and await self.redeliveries.recorded_before(incoming.id):
                    self._skipped(incoming.id, where)
                    return None
                incoming.owned = owned
                outcome = await work()
                if owned and not outcome.receipt_recorded:
                    # Not recorded with the effect: noted now (written in batches), for a
                    # redelivery reaching a process that has not seen this one.
                    self.redeliveries.note(incoming.id)
                return outcome
            except Exception as exc:
                ref = log_unexpected(exc, where)
                text = self.app.translator(incoming.locale, "error.unexpected", ref=ref)
                return Outcome(Reply(text=text, ephemeral=True, error=True))

    # -- answers ---------------------------------------------------------------------------------

    async def _answer(self, incoming: Incoming, outcome: Outcome, where: str) -> None:
        """The reply of acknowledged work: a follow-up (or the deferred response edited)."""
        try:
            message_id = await self._follow_up(incoming, outcome)
        except SEND_ERRORS as exc:
            if not (outage(exc) and await self._post_later(incoming, outcome, exc, answered=True)):
                log.warning("could not answer interaction %s: %s", incoming.id, exc)
            return
        except Exception as exc:  # a reply that cannot be rendered: say so, never hang
            ref = log_unexpected(exc, f"answering {where}")
            text = self.app.translator(incoming.locale, "error.unexpected", ref=ref)
            error = Outcome(Reply(text=text, ephemeral=True, error=True))
            with contextlib.suppress(Exception):
                await self._follow_up(incoming, error)
            return
        await self.remember(incoming, outcome, message_id)

    async def _respond(self, incoming: Incoming, outcome: Outcome, *, first: bool = False) -> bool:
        """The interaction's one response, with the reply: True when Discord took it."""
        try:
            out = render(outcome.reply)
        except Exception as exc:  # a reply that cannot be rendered: say so, never hang
            ref = log_unexpected(exc, "answering")
            text = self.app.translator(incoming.locale, "error.unexpected", ref=ref)
            outcome = Outcome(Reply(text=text, ephemeral=True, error=True))
            out = render(outcome.reply)
        reply = outcome.reply
        private = is_private(reply)
        message_id: str | None = None
        if out.file is not None:  # multipart: discord.py builds it
            try:
                response = await incoming.interaction.response.send_message(
                    ephemeral=private, **out.send()
                )
            except SEND_ERRORS as exc:
                if outage(exc) and await self._post_later(incoming, outcome, exc, answered=False):
                    return True
                log.warning("could not answer interaction %s: %s", incoming.id, exc)
                return False
            if isinstance(response.resource, discord.InteractionMessage):
                message_id = str(response.resource.id)
        else:
            ack = await self.acks.acknowledge(
                incoming.arrival, message_body(_payload(out, private))
            )
            if ack is not Ack.DONE:
                if ack is Ack.UNAVAILABLE and await self._post_later(
                    incoming, outcome, ack.value, answered=False
                ):
                    return True
                log.warning("interaction %s was not answered: %s", incoming.id, ack.value)
                return False
            if self._needs_message(incoming, outcome):
                message_id = await self._original_id(incoming)
        await self.remember(incoming, outcome, message_id)
        return True

    async def _original_id(self, incoming: Incoming) -> str | None:
        a = incoming.arrival
        status, body = await self.acks.request(
            "GET", f"/webhooks/{a.app_id}/{a.token}/messages/@original"
        )
        return str(body["id"]) if status == 200 and isinstance(body, dict) else None

    async def _follow_up(self, incoming: Incoming, outcome: Outcome) -> str | None:
        """Send the reply after a deferral; the id of the message shown, when it is needed."""
        reply = outcome.reply
        private = is_private(reply)
        out = render(reply)
        wait = self._needs_message(incoming, outcome)
        async with self._http.slot(ANSWER):
            if out.file is not None:
                message = await self._follow_up_with_file(incoming.interaction, out, private)
                return str(message.id)
            a = incoming.arrival
            hook = f"/webhooks/{a.app_id}/{a.token}"
            query = "?wait=true" if wait else ""
            payload = _payload(out, private if a.kind == COMPONENT else False)
            if a.kind == COMPONENT:
                status, body = await self.acks.request("POST", hook + query, payload)
            elif private:
                status, body = await self.acks.request(
                    "PATCH", hook + "/messages/@original", payload
                )
            else:
                status, body = await self.acks.request("DELETE", hook + "/messages/@original")
                if unavailable(status):  # the public follow-up would replace the placeholder
                    raise Unavailable(status, body)
                status, body = await self.acks.request("POST", hook + query, payload)
        if status >= 300:
            if unavailable(status):
                raise Unavailable(status, body)
            log.warning("could not answer interaction %s: %s %r", incoming.id, status, body)
            return None
        return str(body["id"]) if isinstance(body, dict) and "id" in body else None

    async def _follow_up_with_file(
        self, interaction: discord.Interaction, out: Rendered, private: bool
    ) -> discord.Message:
        if interaction.type is discord.InteractionType.component:
            return await interaction.followup.send(ephemeral=private, wait=True, **out.send())
        if private:
            return await interaction.edit_original_response(**out.edit())
        await interaction.delete_original_response()
        return await interaction.followup.send(wait=True, **out.send())

    async def _post_later(
        self, incoming: Incoming, outcome: Outcome, why: object, *, answered: bool
    ) -> bool:
        """A reply Discord could not take now: when it is a post, kept in the outbox (posted in
        the interaction's channel once Discord answers) and the member told privately that it
        follows. `answered`: the interaction was acknowledged (deferred) before; if not, the
        notice is its one response. False (nothing kept) for a private reply."""
        later = self.later
        if not later.keepable(outcome.reply, outcome.community_id, incoming.channel_id):
            return False
        notice = {
            "content": later.notice(incoming.locale),
            "flags": EPHEMERAL,
            "allowed_mentions": NO_MENTIONS.to_dict(),
        }
        if not answered:
            ack = await self.acks.acknowledge(incoming.arrival, message_body(notice), first=True)
            if ack is Ack.ELSEWHERE:
                # "Already acknowledged": the reply's response was taken after all (its answer
                # was lost on the way back). It is shown: keeping it would post it twice.
                return True
            return await later.park(outcome.reply, outcome.community_id, incoming.channel_id, why)
        if not await later.park(outcome.reply, outcome.community_id, incoming.channel_id, why):
            return False
        try:
            await self._notice(incoming, notice)
        except Exception as exc:  # Discord is still out: the placeholder stays
            log.info("interaction %s: could not say its post follows: %r", incoming.id, exc)
        return True

    async def _notice(self, incoming: Incoming, notice: dict[str, Any]) -> None:
        """Complete a deferred interaction privately: its "thinking…" placeholder becomes the
        notice (a button's, or one already deleted: a private follow-up instead)."""
        a = incoming.arrival
        hook = f"/webhooks/{a.app_id}/{a.token}"
        async with self._http.slot(ANSWER):
            if a.kind != COMPONENT:
                status, _ = await self.acks.request("PATCH", hook + "/messages/@original", notice)
                if status < 300:
                    return
            await self.acks.request("POST", hook, notice)

    def _needs_message(self, incoming: Incoming, outcome: Outcome) -> bool:
        """Whether the message sent is recorded (`remember`), so its id is asked for."""
        reply = outcome.reply
        if outcome.community_id is None or incoming.channel_id is None:
            return False
        in_dm = incoming.guild_id is None
        has_controls = bool(reply.buttons or reply.select)
        public_subject = bool(reply.subject) and not is_private(reply)
        return public_subject or (in_dm and bool(reply.subject or has_controls))

    async def remember(self, incoming: Incoming, outcome: Outcome, message_id: str | None) -> None:
        """Record what a sent message is about, so replies and DM buttons route after a restart."""
        if message_id is None or incoming.channel_id is None:
            return
        if not self._needs_message(incoming, outcome):
            return
        assert outcome.community_id is not None
        await self.messages.remember(
            PLATFORM,
            incoming.channel_id,
            message_id,
            outcome.reply.subject or "",
            outcome.community_id,
            self.app.clock.now(),
        )

    async def close(self) -> None:
        for task in [*self._tasks, *self._workers]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._workers, return_exceptions=True)
        self._workers = []
        await self.redeliveries.close()
        await self.acks.close()


# What sending a reply raises when it fails (`outage` tells a "not now" from a refusal).
SEND_ERRORS = (
    discord.HTTPException,
    discord.RateLimited,
    HttpError,
    Unavailable,
    aiohttp.ClientError,
    TimeoutError,
)


def _payload(out: Rendered, private: bool) -> dict[str, Any]:
    """A message's JSON as Discord takes it, from the rendered reply (no file)."""
    payload: dict[str, Any] = {
        "embeds": [out.embed.to_dict()],
        "allowed_mentions": NO_MENTIONS.to_dict(),
        "components": out.view.to_components() if out.view is not None else [],
    }
    if private:
        payload["flags"] = EPHEMERAL
    return payload


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
