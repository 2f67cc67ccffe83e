"""Announcements and member notifications: rendered per recipient's language, stored, delivered.

Nothing is sent directly: the outbox row is written first, then each adapter's worker delivers
it, retrying with back-off (or after the platform's retry-after) until it succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable
from datetime import timedelta

from bot.core.clock import Clock
from bot.core.reply import Reply
from storage.core.identity import IdentityRepo, recipients
from storage.core.outbox import NewMessage, OutboxItem, OutboxRepo

__all__ = [
    "LIVE",
    "LIVE_EDIT",
    "LIVE_POST",
    "PARTS_SENT",
    "THREAD_NAME",
    "Deliver",
    "DeliveryFailed",
    "DeliveryRetry",
    "Outbox",
    "OutboxItem",
    "OutboxWorker",
]

log = logging.getLogger(__name__)

Render = Callable[[str], Reply]  # locale -> reply


class DeliveryRetry(Exception):
    """The platform asked us to wait (HTTP 429, retry_after)."""

    def __init__(self, after: float, reason: str = "rate limited") -> None:
        super().__init__(reason)
        self.after = after


class DeliveryFailed(Exception):
    """Delivery can never succeed (the user blocked the bot, the chat is gone)."""


#: The payload key of a parked reply's messages that were sent before it was parked.
PARTS_SENT = "parts_sent"
# The name of the thread a "thread" message starts when its subject has none yet.
THREAD_NAME = "thread_name"

#: The payload key of an announcement that shows its subject's live state (a drop's card with
#: its counts). `LIVE_POST`: a new message, which later updates of the subject edit in place;
#: `LIVE_EDIT`: an update: the platform edits the chat's live message of that subject (posts one
#: when it has none, or when that message cannot be edited any more). A platform that cannot
#: edit its messages (the console) shows an update as a message of its own, marked as one.
LIVE = "live"
LIVE_POST = "post"
LIVE_EDIT = "edit"

#: The kind of outbox row that carries a subject's new view to a platform's messages about it,
#: and its payload's key (`Outbox.edit_posts`).
POST_EDIT = "post_edit"
POST_VIEW = "reply"
#: A platform's editor of its messages about a subject: (community, subject, its view).
PostEdit = Callable[[int, str, Reply | None], Awaitable[None]]

#: Members looked up and stored per step by `Outbox.notify`.
NOTIFY_CHUNK = 10_000


class Outbox:
    def __init__(
        self,
        repo: OutboxRepo,
        identity: IdentityRepo,
        clock: Clock,
        community_locale: Callable[[int], Awaitable[str]],
    ) -> None:
        self.repo = repo
        self.identity = identity
        self.clock = clock
        self._community_locale = community_locale
        self.wake = asyncio.Event()
        # What a community's announcement gets before it is stored (its "view on the web" link).
        self.decorate: Callable[[int, Reply, str], Awaitable[Reply]] | None = None

    async def announce(
        self,
        community_id: int,
        render: Render,
        *,
        dedup_key: str | None = None,
        live: str | None = None,
    ) -> int:
        """Post to the community's announcement place on every platform it spans. `live`
        (`LIVE_POST`, `LIVE_EDIT`): the message shows its subject's live state (see `LIVE`)."""
        locale = await self._community_locale(community_id)
        reply = render(locale)
        if self.decorate is not None:
            reply = await self.decorate(community_id, reply, locale)
        reply.ephemeral = False
        payload = reply.to_dict()
        if live is not None:
            if not reply.subject:
                raise ValueError("a live message needs a subject")
            payload[LIVE] = live
        messages = [
            NewMessage(
                community_id=community_id,
                platform=space.platform,
                kind="channel",
                target=space.announce_channel or space.space_id,
                payload=payload,
                dedup_key=f"{dedup_key}:{space.platform}:{space.space_id}" if dedup_key else None,
            )
            for space in await self.identity.spaces_of(community_id)
        ]
        return await self._store(messages)

    async def notify(
        self,
        community_id: int,
        account_ids: Iterable[int],
        render: Render,
        *,
        dedup_key: str | None = None,
        force: bool = False,
    ) -> int:
        """Tell members privately; those who opted out (/notify off) are skipped unless `force`."""
        ids = list(dict.fromkeys(account_ids))
        if not ids:
            return 0
        default_locale = await self._community_locale(community_id)
        platforms = list(
            dict.fromkeys(s.platform for s in await self.identity.spaces_of(community_id))
        )
        rendered: dict[str, dict[str, object]] = {}
        stored = 0
        # In chunks, so that nudging a million reservers holds a bounded number in memory.
        for start in range(0, len(ids), NOTIFY_CHUNK):
            messages = []
            chunk = ids[start : start + NOTIFY_CHUNK]
            for r in await recipients(self.identity.engine, chunk, platforms):
                if not (r.notify or force):
                    continue
                locale = r.locale or default_locale
                if locale not in rendered:
                    reply = render(locale)
                    reply.ephemeral = False
                    rendered[locale] = reply.to_dict()
                messages.append(
                    NewMessage(
                        community_id=community_id,
                        platform=r.platform,
                        kind="member",
                        target=r.platform_user_id,
                        account_id=r.account_id,
                        payload=rendered[locale],
                        dedup_key=f"{dedup_key}:{r.account_id}" if dedup_key else None,
                    )
                )
            stored += await self._store(messages)
        return stored

    async def discuss(
        self,
        community_id: int,
        subject: str,
        reply: Reply,
        *,
        thread_name: str,
        dedup_key: str,
        skip_platform: str | None = None,
    ) -> int:
        """Post into the discussion of `subject` ("sg:12") on each platform of the community
        but `skip_platform` (where the words were written in that very discussion). Kind
        "thread", target the subject: a platform with threads (Discord) posts in the subject's
        thread, starting it from the subject's card (named `thread_name`) the first time; a
        platform without threads takes the message as delivered and shows nothing."""
        payload = reply.to_dict()
        payload["ephemeral"] = False
        payload[THREAD_NAME] = thread_name
        platforms = dict.fromkeys(s.platform for s in await self.identity.spaces_of(community_id))
        messages = [
            NewMessage(
                community_id=community_id,
                platform=platform,
                kind="thread",
                target=subject,
                payload=payload,
                dedup_key=f"{dedup_key}:{platform}",
            )
            for platform in platforms
            if platform != skip_platform
        ]
        return await self._store(messages)

    async def role_change(
        self,
        community_id: int,
        account_id: int,
        role: str,
        grant: bool,
        *,
        dedup_key: str | None = None,
    ) -> int:
        """Ask the platforms that have roles (Discord) to grant or remove a role from a member.
        Delivered like any message: kind "role", payload {"action": "grant"|"revoke", "role"}."""
        spaces = await self.identity.spaces_of(community_id)
        platforms = list(dict.fromkeys(s.platform for s in spaces))
        messages = [
            NewMessage(
                community_id=community_id,
                platform=r.platform,
                kind="role",
                target=r.platform_user_id,
                account_id=r.account_id,
                payload={"action": "grant" if grant else "revoke", "role": role},
                dedup_key=f"{dedup_key}:{r.platform}" if dedup_key else None,
            )
            for r in await recipients(self.identity.engine, [account_id], platforms)
        ]
        return await self._store(messages)

    async def edit_posts(
        self, community_id: int, subject: str, reply: Reply | None, skip: Collection[str]
    ) -> int:
        """Hand a subject's new view (`bot.core.posts`) to each platform of the community but
        those in `skip` (edited already by this process): kind `post_edit`, target the subject,
        payload {"reply": the view or None}. The platform's worker edits its messages about
        the subject with it (`deliver_post_edit`), unless a newer row for the subject waits."""
        platforms = dict.fromkeys(s.platform for s in await self.identity.spaces_of(community_id))
        payload = {POST_VIEW: None if reply is None else reply.to_dict()}
        messages = [
            NewMessage(community_id, platform, POST_EDIT, subject, payload)
            for platform in platforms
            if platform not in skip
        ]
        return await self._store(messages)

    async def deliver_post_edit(self, item: OutboxItem, edit: PostEdit) -> None:
        """Deliver a `post_edit` row with the platform's editor of its messages about the
        subject, unless a newer row for the subject was queued after it (that one shows the
        newer view; `OutboxRepo.newer_exists`)."""
        if await self.repo.newer_exists(item):
            return
        view = item.payload.get(POST_VIEW)
        await edit(item.community_id, item.target, Reply.from_dict(view) if view else None)

    async def park(
        self,
        community_id: int,
        platform: str,
        target: str,
        reply: Reply,
        *,
        member: bool,
        parts_sent: int = 0,
    ) -> int:
        """Keep a direct reply that could not be sent now, for the platform's worker to deliver
        (after a restart, if need be): a reply that is a post, during an outage of the platform
        (flood control that outlasts the interactive wait, a 5xx, a network error), and on a stop
        the replies still waiting for the platform's rate limit instead of holding the stop up
        for minutes. `parts_sent`: of a reply shown as several messages, how many went out
        already (the worker sends the rest; `PARTS_SENT` in the payload)."""
        payload = reply.to_dict()
        payload["ephemeral"] = False
        if parts_sent:
            payload[PARTS_SENT] = parts_sent
        kind = "member" if member else "channel"
        return await self._store([NewMessage(community_id, platform, kind, target, payload)])

    async def _store(self, messages: list[NewMessage]) -> int:
        if not messages:
            return 0
        added = await self.repo.add(messages, self.clock.now())
        self.wake.set()
        return added


Deliver = Callable[[OutboxItem], Awaitable[None]]


class OutboxWorker:
    """Delivers one platform's due messages; failures are retried with exponential back-off.

    A batch is leased briefly (`LEASE`) and the lease is extended while the worker is busy with
    it, so messages claimed by a process that is killed go to another (or to the restarted
    process) within seconds, while a worker waiting out a group's rate limit keeps its batch."""

    MAX_ATTEMPTS = 12
    LEASE = timedelta(seconds=15)

    def __init__(self, outbox: Outbox, platform: str, deliver: Deliver, batch: int = 50) -> None:
        self.outbox = outbox
        self.platform = platform
        self.deliver = deliver
        self.batch = batch

    async def run_once(self, stop: asyncio.Event | None = None) -> int:
        """Deliver one batch of due messages. Once `stop` is set, the message being sent is
        finished (and recorded as sent) and the batch's rest goes back to the queue."""
        repo, clock = self.outbox.repo, self.outbox.clock
        items = await repo.claim_due(self.platform, clock.now(), self.batch, self.LEASE)
        if not items:
            return 0
        left = {i.id for i in items}
        renewing = asyncio.create_task(self._keep_leased(left))
        try:
            return await self._deliver_batch(items, left, stop)
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def _keep_leased(self, left: set[int]) -> None:
        repo, clock = self.outbox.repo, self.outbox.clock
        every = self.LEASE.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                await repo.extend_lease(sorted(left), clock.now() + self.LEASE)
            except Exception:
                log.warning("outbox %s: could not extend a lease", self.platform, exc_info=True)

    async def _deliver_batch(
        self, items: list[OutboxItem], left: set[int], stop: asyncio.Event | None
    ) -> int:
        repo, clock = self.outbox.repo, self.outbox.clock
        done = 0
        for n, item in enumerate(items):
            if stop is not None and stop.is_set():
                left.clear()
                await repo.unclaim([i.id for i in items[n:]], clock.now())
                break
            try:
                await self.deliver(item)
            except asyncio.CancelledError:
                # A stop: the batch's undelivered rest goes back at once (the one cut short
                # too, unsure as it is: at least once).
                rest = [i.id for i in items[n:]]
                left.clear()
                with contextlib.suppress(Exception):
                    await asyncio.shield(repo.unclaim(rest, clock.now()))
                raise
            except DeliveryRetry as exc:
                await repo.retry_later(
                    item.id, clock.now() + timedelta(seconds=exc.after), str(exc)
                )
            except DeliveryFailed as exc:
                log.warning("outbox %s: giving up on message %s: %s", self.platform, item.id, exc)
                await repo.retry_later(item.id, clock.now(), str(exc), give_up_at=clock.now())
            except Exception as exc:
                attempts = item.attempts + 1
                give_up = clock.now() if attempts >= self.MAX_ATTEMPTS else None
                delay = timedelta(seconds=min(3600, 2**attempts))
                log.warning(
                    "outbox %s: message %s failed (%s), retrying", self.platform, item.id, exc
                )
                await repo.retry_later(item.id, clock.now() + delay, repr(exc), give_up_at=give_up)
            else:
                await repo.delivered(item.id, clock.now())
                done += 1
            finally:
                left.discard(item.id)
        return done

    async def run_forever(self, stop: asyncio.Event, idle: float = 1.0) -> None:
        while not stop.is_set():
            try:
                busy = await self.run_once(stop)
            except Exception:
                log.exception("outbox %s worker", self.platform)
                busy = 0
            if busy:
                continue
            self.outbox.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.outbox.wake.wait(), idle)

    @staticmethod
    async def finish(task: asyncio.Task[None], outbox: Outbox, grace: float) -> None:
        """Stop a worker whose `run_forever` stop event is set: the message under way gets up
        to `grace` seconds to be sent and recorded (a send cut short is sent again after the
        restart: at least once), then the worker is cancelled."""
        outbox.wake.set()
        await asyncio.wait({task}, timeout=grace)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
