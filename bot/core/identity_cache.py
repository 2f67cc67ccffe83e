"""Who a known member is, from memory: (platform, user, space) → account, name, language,
community and membership, for a few seconds.

`App.context` asks this cache first. A hit costs no transaction. The misses waiting are read
together (`IdentityRepo.known`: three SELECTs on one connection for all of them, which is what
a burst of members not seen in the last seconds costs); a member with something missing (a new
member, a new space, a changed display name) resolves through `IdentityRepo.resolve` as before,
creating what is missing in one transaction. Either fills the cache. The cache is per process
and starts empty:

- What this process changes is seen at once: `IdentityRepo` tells the cache after each write
  that links or merges accounts, changes an account's language or notification setting, or
  moves a space to another community (`IdentityRepo.changed`), and the cache forgets the
  entries concerned. A miss that was reading the database while such a change committed does
  not fill the cache (the epoch moved).
- What another process changes is seen when the entry expires: entries live `IDENTITY_TTL`
  (10 seconds) from the read that filled them.

A membership's `last_seen_at` is moved at most every `seen_every` as before, but off the press:
the cache queues it and one task writes whatever is queued in one statement.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

from bot.core.clock import Clock
from storage.core.identity import IdentityChange, IdentityRepo, Resolved

log = logging.getLogger(__name__)

IDENTITY_TTL = timedelta(seconds=10)
MAX_ENTRIES = 200_000

Key = tuple[str, str, str]  # (platform, user id, space id)
K = TypeVar("K")


@dataclass
class _Entry:
    resolved: Resolved
    expires: datetime
    last_seen: datetime


class IdentityCache:
    def __init__(
        self,
        repo: IdentityRepo,
        clock: Clock,
        *,
        seen_every: timedelta,
        ttl: timedelta = IDENTITY_TTL,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.seen_every = seen_every
        self.ttl = ttl
        self.max_entries = max_entries
        self.enabled = True
        self._entries: dict[Key, _Entry] = {}
        self._by_account: dict[int, set[Key]] = {}
        self._by_space: dict[tuple[str, str], set[Key]] = {}
        self._epoch = 0
        self._seen: dict[tuple[int, int], datetime] = {}
        self._writer: asyncio.Task[None] | None = None
        self._lookups: list[tuple[Key, asyncio.Future[Resolved | None]]] = []
        self._reader: asyncio.Task[None] | None = None
        self.hits = 0
        self.misses = 0
        repo.listeners.append(self.forget)

    async def resolve(
        self,
        platform: str,
        user_id: str,
        display_name: str,
        space_id: str,
        space_name: str,
        now: datetime,
    ) -> Resolved:
        key = (platform, user_id, space_id)
        entry = self._entries.get(key) if self.enabled else None
        if entry is not None and now < entry.expires:
            name = entry.resolved.identity.display_name
            if not display_name or display_name[:128] == name[:128]:
                self.hits += 1
                if now - entry.last_seen > self.seen_every:
                    entry.last_seen = now
                    self._mark_seen(entry.resolved, now)
                return entry.resolved
        self.misses += 1
        epoch = self._epoch
        found = await self._lookup(key) if self.enabled else None
        if found is not None and display_name and display_name[:128] != found.identity.display_name:
            found = None  # renamed: `resolve` writes the new name
        if found is None:
            found = await self.repo.resolve(
                platform,
                user_id,
                display_name,
                space_id,
                space_name,
                now,
                seen_every=self.seen_every,
            )
        elif found.last_seen_at is None or now - found.last_seen_at > self.seen_every:
            self._mark_seen(found, now)
            found = replace(found, last_seen_at=now)
        if self.enabled and epoch == self._epoch:
            self._put(key, found, now)
        return found

    def forget(self, change: IdentityChange) -> None:
        """Drop what a change made stale (an `IdentityRepo` listener)."""
        self._epoch += 1
        keys: set[Key] = set()
        for account in change.accounts:
            keys |= self._by_account.get(account, set())
        if change.space is not None:
            keys |= self._by_space.get(change.space, set())
        for key in keys:
            self._drop(key)

    def clear(self) -> None:
        self._epoch += 1
        self._entries.clear()
        self._by_account.clear()
        self._by_space.clear()

    async def flush(self) -> None:
        """Write the queued `last_seen_at` moves now (and wait for the ones being written).
        A failing database is tried a few times, then the moves are dropped (they are only
        a hint of activity)."""
        for _ in range(3):
            if self._writer is None or self._writer.done():
                if not self._seen:
                    return
                self._writer = asyncio.create_task(self._write_seen())
            with contextlib.suppress(Exception):
                await asyncio.shield(self._writer)
        self._seen.clear()

    # -- inside ------------------------------------------------------------------------------

    async def _lookup(self, key: Key) -> Resolved | None:
        """A known member, read together with the other misses waiting (one connection, three
        SELECTs for all of them); None when something is missing (`resolve` creates it)."""
        future: asyncio.Future[Resolved | None] = asyncio.get_running_loop().create_future()
        self._lookups.append((key, future))
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read_known(), name="identity-lookups")
        return await future

    async def _read_known(self) -> None:
        while self._lookups:
            batch, self._lookups = self._lookups, []
            try:
                known = await self.repo.known([key for key, _ in batch])
            except Exception:
                log.exception("could not read %d members at once", len(batch))
                known = {}  # each resolves on its own
            for key, future in batch:
                if not future.done():
                    future.set_result(known.get(key))

    def _put(self, key: Key, found: Resolved, now: datetime) -> None:
        if len(self._entries) >= self.max_entries:
            self._evict(now)
        self._drop(key)
        last_seen = found.last_seen_at or now
        self._entries[key] = _Entry(found, now + self.ttl, last_seen)
        self._by_account.setdefault(found.identity.account_id, set()).add(key)
        self._by_space.setdefault((key[0], key[2]), set()).add(key)

    def _drop(self, key: Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        account, space = entry.resolved.identity.account_id, (key[0], key[2])
        _unindex(self._by_account, account, key)
        _unindex(self._by_space, space, key)

    def _evict(self, now: datetime) -> None:
        """Make room: the expired entries, then the oldest tenth."""
        for key in [k for k, e in self._entries.items() if e.expires <= now]:
            self._drop(key)
        if len(self._entries) >= self.max_entries:
            for key in list(self._entries)[: max(1, self.max_entries // 10)]:
                self._drop(key)

    def _mark_seen(self, found: Resolved, now: datetime) -> None:
        self._seen[(found.community_id, found.identity.account_id)] = now
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_seen(), name="identity-last-seen")

    async def _write_seen(self) -> None:
        while self._seen:
            seen, self._seen = self._seen, {}
            try:
                await self.repo.mark_seen([(c, a, at) for (c, a), at in seen.items()])
            except Exception:
                log.exception("could not write last_seen_at for %d members", len(seen))
                return


def _unindex(index: dict[K, set[Key]], at: K, key: Key) -> None:
    keys = index.get(at)
    if keys is not None:
        keys.discard(key)
        if not keys:
            del index[at]
