"""The suggestion loop's rules: posting, similar-suggestion hints, votes, merges, statuses."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.core.change_feed import ChangeFeed
from bot.core.clock import Clock, format_duration
from bot.core.context import Receipt
from bot.core.errors import UserError
from bot.core.events import (
    SUGGESTION_CREATED,
    SUGGESTION_DELETED,
    SUGGESTION_EDITED,
    SUGGESTION_HIDDEN,
    SUGGESTION_MERGED,
    SUGGESTION_RESTORED,
    SUGGESTION_SHOWN,
    SUGGESTION_STATUS,
    SUGGESTION_UNMERGED,
    Events,
)
from cogs.suggestions.embeddings import Embeddings
from cogs.suggestions.heat import heat_from_seconds, heat_scores
from cogs.suggestions.similarity import RELATED, SimilarityIndex, make_index
from cogs.suggestions.similarity.hybrid import HybridIndex
from cogs.suggestions.similarity.semantic import Vectors
from cogs.suggestions.status import (
    CLOSED_FOR_VOTES,
    OPEN_STATUSES,
    ROADMAP_LANES,
    STATUS_FLOW,
    SuggestionStatus,
    is_open,
)
from cogs.suggestions.vote_writer import VoteKind, VoteWriter
from storage.suggestions.merges import MergeRepo, MergeResult
from storage.suggestions.posts import (
    TOPIC,
    BoardEntry,
    DraftRow,
    IndexRow,
    SuggestionRepo,
    SuggestionRow,
)
from storage.suggestions.vectors import VectorRepo
from storage.suggestions.vote_batch import VoteBatchStore
from storage.suggestions.votes import Target, VoteRepo, VoteUnit

log = logging.getLogger(__name__)

# Shown at submission from "related" up: a wrong hint costs one press of "post mine anyway".
SIMILAR_MIN_SCORE = RELATED


@dataclass(frozen=True)
class Pending:
    """A post about to be published, as a gate sees it."""

    community_id: int
    author_id: int
    title: str
    details: str
    category: str | None
    draft_id: int | None = None


@dataclass(frozen=True)
class Held:
    """A post a gate holds back (for review): the message telling its author."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


# Run before a post is published, after the similar-suggestion step: a `Held` keeps it back.
PostGate = Callable[[Pending], Awaitable[Held | None]]


@dataclass(frozen=True)
class Submission:
    posted: SuggestionRow | None
    similar: list[tuple[SuggestionRow, float]]
    draft_id: int | None
    held: Held | None = None


class SuggestionService:
    def __init__(
        self,
        repo: SuggestionRepo,
        clock: Clock,
        index_factory: Callable[[], SimilarityIndex] = make_index,
        anonymous: Callable[[int], Awaitable[bool]] | None = None,
    ) -> None:
        self.repo = repo
        # Whether a community posts suggestions without their author's name (its setting),
        # decided when each one is posted, whichever way it comes (form, draft, review queue).
        self._anonymous = anonymous or _never
        self.votes = VoteRepo(repo.engine)
        self.writer = VoteWriter(VoteBatchStore(repo.engine), clock)
        self.batched = True
        self.merges = MergeRepo(repo.engine)
        self.clock = clock
        self._make_index = index_factory
        self._indexes: dict[int, SimilarityIndex] = {}
        # The builds under way, one per community: a large board takes seconds to read, and
        # another community's first use does not wait for it.
        self._builds: dict[int, asyncio.Future[SimilarityIndex]] = {}
        # Other processes' changes (see `listen`): the suggestions to re-read, and the task
        # re-reading them; `_generation` moves when the indexes are thrown away (a resync).
        self._changes: ChangeFeed | None = None
        self._stale: set[int] = set()
        self._refresher: asyncio.Task[None] | None = None
        self._generation = 0
        # Other cogs' gates before publishing (the review queue, the word filter).
        self.gates: list[PostGate] = []
        # Where posts, status changes and merges are told outside the chat (webhooks).
        self.events: Events | None = None
        # With an embedding model (the `semantic` extra): vectors off the loop, stored, queued.
        self.embeddings = Embeddings(
            repo, VectorRepo(repo.engine), _doc, lambda r: _visible(r.status, r.hidden)
        )

    # -- the similarity index, one per community, built from the database on first use ------
    #
    # Each process keeps its own. Its own writes are applied at once (`_reindex`); with the
    # change feed live (several processes on PostgreSQL), every suggestion event anywhere
    # (posted, hidden, shown, merged, unmerged, status) names the suggestion, and each process
    # re-reads it and applies what the database says now (`_refresh`), in one task, in order.
    # After the feed (re)connects, messages may have been missed: the indexes are thrown away
    # and rebuilt from the database on their next use. Communities are built side by side; a
    # change heard while its community is being built is applied once the build is published.

    def listen(self, changes: ChangeFeed) -> None:
        """Keep the indexes in step with what every process writes (see above)."""
        self._changes = changes
        changes.subscribe(TOPIC, self._heard)
        changes.on_resync(self._resync)

    async def index(self, community_id: int) -> SimilarityIndex:
        idx = self._indexes.get(community_id)
        if idx is not None:
            return idx
        build = self._builds.get(community_id)
        if build is None:
            build = asyncio.ensure_future(self._build(community_id, self._generation))
            self._builds[community_id] = build
            build.add_done_callback(lambda done: self._built(community_id, done))
        # Shielded: a caller that gives up (a cancelled interaction) leaves the build to the
        # others waiting for it.
        return await asyncio.shield(build)

    async def _build(self, community_id: int, generation: int) -> SimilarityIndex:
        idx = self._make_index()
        if isinstance(idx, HybridIndex):
            await self.embeddings.load(community_id, idx, SuggestionStatus.DUPLICATE)
        else:
            rows = await self.repo.all_for_index(
                community_id, excluded_status=SuggestionStatus.DUPLICATE
            )
            # In a worker thread, as `Embeddings.load` fills a hybrid index: seconds for a
            # large board, and the event loop keeps serving votes meanwhile.
            docs = [(sid, _doc(title, details)) for sid, _cid, title, details in rows]
            await asyncio.to_thread(idx.add_many, docs)
        if generation == self._generation:  # else read before a resync: not kept
            self._indexes[community_id] = idx
        return idx

    def _built(self, community_id: int, build: asyncio.Future[SimilarityIndex]) -> None:
        if self._builds.get(community_id) is build:
            del self._builds[community_id]
        error = None if build.cancelled() else build.exception()
        if error is not None:  # every caller got it too; the next use tries again
            log.warning(
                "could not build the similarity index of community %d: %s", community_id, error
            )

    async def _reindex(self, row: SuggestionRow) -> None:
        """Apply this process's own change to the community's index. An index not built here
        yet is not built for it: the database holds the change already, and the build reads
        it (a build under way may have read the row before the change: the row is read again
        and applied once that build is published). A visible post's vector is made and stored
        now either way, so the build finds it, as does every other process."""
        idx = self._indexes.get(row.community_id)
        visible = _visible(row.status, row.hidden)
        if idx is None:
            model = self._make_index() if visible else None
            if isinstance(model, HybridIndex):
                text = _doc(row.title, row.details)
                vector = await self._embed(model, row.id, text)
                if vector is not None:
                    await self.embeddings.store(model, row.id, text, vector)
        elif isinstance(idx, HybridIndex) and visible:
            text = _doc(row.title, row.details)
            vector = await self._embed(idx, row.id, text)
            idx.put(row.id, text, vector)
            if vector is None:  # indexed by its words now, the vector in the background
                self.embeddings.queue(row.community_id, idx, [row.id])
            else:
                await self.embeddings.store(idx, row.id, text, vector)
        else:
            _apply(idx, row.id, row.title, row.details, row.status, row.hidden)
        if row.community_id in self._builds or (self._changes is not None and self._changes.live):
            # A build under way may have read the row before this change, and another
            # process's change to it may have been applied just before this one: read it
            # back after (once the build is published), in order with the rest.
            self._refresh(row.id)

    async def _embed(self, idx: HybridIndex, sid: int, text: str) -> Vectors | None:
        """The vector of `text`, made now; None when the model fails on it (logged)."""
        try:
            return (await self.embeddings.embed(idx, [text]))[0]
        except Exception as exc:
            log.warning("could not embed suggestion %d now: %s", sid, exc)
            return None

    def _heard(self, data: dict[str, object]) -> None:
        sid = data.get("id")
        if isinstance(sid, int):
            self._refresh(sid)

    def _resync(self) -> None:
        self._generation += 1
        self._indexes.clear()
        self._builds.clear()  # those under way read the database before: not kept
        self.embeddings.forget()
        self._stale.clear()

    def _refresh(self, sid: int) -> None:
        self._stale.add(sid)
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.create_task(self._refresh_stale(), name="similar-refresh")

    async def _refresh_stale(self) -> None:
        failures = 0
        while self._stale:
            ids, self._stale = sorted(self._stale), set()
            generation = self._generation
            try:
                rows = await self.repo.index_rows(ids)
            except Exception as exc:
                failures += 1
                log.warning("could not re-read %d suggestions for the index: %s", len(ids), exc)
                self._stale.update(ids)
                await asyncio.sleep(min(0.1 * 2**failures, 5.0))
                continue
            failures = 0
            found = {r.id: r for r in rows}
            # An index being built may have read these rows before the change: it is
            # published first, and the rows read now are applied on top.
            await self._builds_done(
                None if len(found) < len(ids) else {r.community_id for r in rows}
            )
            if generation != self._generation:  # read before a resync: the rebuilt
                continue  # indexes read the database after it
            for sid in ids:
                self._apply_row(sid, found.get(sid))

    async def _builds_done(self, communities: set[int] | None) -> None:
        """Wait for the builds under way of `communities` (None: of every community)."""
        builds = [b for c, b in self._builds.items() if communities is None or c in communities]
        if builds:
            await asyncio.wait(builds)

    def _apply_row(self, sid: int, row: IndexRow | None) -> None:
        if row is None:  # gone (its community deleted)
            for each in self._indexes.values():
                each.remove(sid)
            return
        idx = self._indexes.get(row.community_id)
        if idx is None:  # not built here yet: it reads the database when it is
            return
        if isinstance(idx, HybridIndex) and _visible(row.status, row.hidden):
            # Words now; the vector from the database (the writer stores it) or the model.
            idx.put(row.id, _doc(row.title, row.details), None)
            self.embeddings.queue(row.community_id, idx, [row.id])
        else:
            _apply(idx, row.id, row.title, row.details, row.status, row.hidden)

    async def similar(
        self,
        community_id: int,
        text: str,
        *,
        k: int = 3,
        open_only: bool = True,
        min_score: float = SIMILAR_MIN_SCORE,
        exclude: tuple[int, ...] = (),
    ) -> list[tuple[SuggestionRow, float]]:
        idx = await self.index(community_id)
        if isinstance(idx, HybridIndex) and len(idx):
            # The model runs in a worker thread: the event loop keeps serving votes meanwhile.
            try:
                vector = (await self.embeddings.embed(idx, [text]))[0]
            except Exception as exc:  # the model failed: words still find duplicates
                log.warning("could not embed a query, searching by words only: %s", exc)
                found = idx.words.query(text, k=k * 4, exclude=exclude)
            else:
                found = idx.query_vector(text, vector, k=k * 4, exclude=exclude)
        else:
            found = idx.query(text, k=k * 4, exclude=exclude)
        hits = [(sid, score) for sid, score in found if score >= min_score]
        if not hits:
            return []
        rows = {r.id: r for r in await self.repo.find(community_id, ids=[sid for sid, _ in hits])}
        out = []
        for sid, score in hits:
            row = rows.get(sid)
            if row is None or (open_only and not is_open(row.status)):
                continue
            out.append((row, score))
        return out[:k]

    # -- posting -----------------------------------------------------------------------------

    async def submit(
        self,
        community_id: int,
        author_id: int,
        title: str,
        details: str,
        category: str | None,
        *,
        force: bool = False,
        reviewed: bool = False,
    ) -> Submission:
        """Post, unless similar open suggestions exist: then keep a draft and show them. A gate
        may then hold it back (unless it was `reviewed` already)."""
        title, details = title.strip(), details.strip()
        if not force:
            similar = await self.similar(community_id, _doc(title, details))
            if similar:
                draft_id = await self.repo.save_draft(
                    community_id, author_id, title, details, category, self.clock.now()
                )
                return Submission(None, similar, draft_id)
        if not reviewed:
            held = await self._gate(Pending(community_id, author_id, title, details, category))
            if held is not None:
                return Submission(None, [], None, held)
        row = await self.repo.create(
            community_id,
            author_id,
            title,
            details,
            category,
            self.clock.now(),
            anonymous=await self._anonymous(community_id),
        )
        await self._reindex(row)
        await self._emit(SUGGESTION_CREATED, row, f"suggestion:{row.id}", {})
        return Submission(row, [], None)

    async def hold(self, community_id: int, author_id: int, title: str, details: str) -> int:
        """Keep a submission as a draft while its author answers a step of the form (picks a
        category); `continue_draft` goes on from there."""
        return await self.repo.save_draft(
            community_id, author_id, title.strip(), details.strip(), None, self.clock.now()
        )

    async def continue_draft(self, community_id: int, draft_id: int, account_id: int) -> Submission:
        """Go on with a held draft as `submit` does: show the similar open suggestions, or post."""
        draft = await self.repo.draft(draft_id)
        if draft is None or draft.community_id != community_id or draft.account_id != account_id:
            raise UserError("suggest.draft.unknown")
        if draft.posted_id is not None:
            raise UserError("suggest.draft.posted", id=draft.posted_id)
        similar = await self.similar(community_id, _doc(draft.title, draft.details))
        if similar:
            return Submission(None, similar, draft_id)
        posted = await self.post_draft(community_id, draft_id, account_id)
        if isinstance(posted, Held):
            return Submission(None, [], None, posted)
        return Submission(posted, [], None)

    async def _gate(self, pending: Pending) -> Held | None:
        for gate in self.gates:
            held = await gate(pending)
            if held is not None:
                return held
        return None

    async def post_draft(
        self, community_id: int, draft_id: int, account_id: int
    ) -> SuggestionRow | Held:
        draft = await self.repo.draft(draft_id)
        if draft is None or draft.community_id != community_id or draft.account_id != account_id:
            raise UserError("suggest.draft.unknown")
        if draft.posted_id is None:
            pending = Pending(
                community_id, account_id, draft.title, draft.details, draft.category, draft_id
            )
            held = await self._gate(pending)
            if held is not None:
                return held
        anonymous = await self._anonymous(community_id)
        row = await self.repo.post_draft(draft, self.clock.now(), anonymous=anonymous)
        if row is None:
            raise UserError("suggest.draft.posted", id=_posted_id(await self.repo.draft(draft_id)))
        await self._reindex(row)
        await self._emit(SUGGESTION_CREATED, row, f"suggestion:{row.id}", {})
        return row

    # -- reading -----------------------------------------------------------------------------

    async def get(
        self, community_id: int, sid: int, *, include_hidden: bool = False
    ) -> SuggestionRow:
        row = await self.repo.get(community_id, sid)
        if row is None or (row.hidden and not include_hidden):
            raise UserError("suggest.unknown", id=sid)
        return row

    async def top(
        self,
        community_id: int,
        half_life: timedelta,
        limit: int = 10,
        *,
        category: str | None = None,
        voted_since: datetime | None = None,
    ) -> list[tuple[SuggestionRow, float]]:
        """Open suggestions by heat; with `voted_since`, only those voted for since then."""
        times = await self.repo.vote_times(community_id, OPEN_STATUSES)
        scores = heat_scores(times, self.clock.now(), half_life)
        rows = await self.repo.find(community_id, statuses=OPEN_STATUSES, category=category)
        if voted_since is not None:
            recent = {sid for sid, at in times if at >= voted_since}
            rows = [r for r in rows if r.id in recent]
        rows.sort(key=lambda r: (-scores.get(r.id, 0.0), -r.votes, -r.id))
        return [(r, scores.get(r.id, 0.0)) for r in rows[:limit]]

    async def board(
        self, community_id: int, half_life: timedelta
    ) -> list[tuple[BoardEntry, float]]:
        """Every open, visible suggestion in `top`'s order (heat, then votes, then the newer),
        with its heat: light rows, for a board of any size (the web pages)."""
        entries = await self.repo.board_entries(community_id, OPEN_STATUSES)
        times = await self.repo.vote_seconds(community_id, OPEN_STATUSES)
        # Ranked in a worker thread: the event loop keeps serving meanwhile.
        return await asyncio.to_thread(
            _rank, entries, times, self.clock.now().timestamp(), half_life
        )

    async def by_votes(
        self, community_id: int, limit: int = 10, *, category: str | None = None
    ) -> list[SuggestionRow]:
        rows = await self.repo.find(community_id, statuses=OPEN_STATUSES, category=category)
        rows.sort(key=lambda r: (-r.votes, -r.id))
        return rows[:limit]

    async def newest(
        self, community_id: int, limit: int = 10, *, category: str | None = None
    ) -> list[SuggestionRow]:
        return await self.repo.find(
            community_id, statuses=OPEN_STATUSES, limit=limit, category=category
        )

    async def search(
        self, community_id: int, text: str, limit: int = 8, *, category: str | None = None
    ) -> list[tuple[SuggestionRow, float]]:
        if category is None:
            return await self.similar(community_id, text, k=limit, open_only=False, min_score=0.05)
        hits = await self.similar(community_id, text, k=limit * 8, open_only=False, min_score=0.05)
        return [(row, score) for row, score in hits if row.category == category][:limit]

    async def mine(self, community_id: int, account_id: int) -> list[SuggestionRow]:
        return await self.repo.find(community_id, author_id=account_id, include_hidden=True)

    async def roadmap(self, community_id: int) -> dict[str, list[SuggestionRow]]:
        rows = await self.repo.find(community_id, statuses=ROADMAP_LANES, newest_first=False)
        return {lane: [r for r in rows if r.status == lane] for lane in ROADMAP_LANES}

    # -- votes -------------------------------------------------------------------------------

    # Every press goes through the vote writer, which commits the presses waiting as one
    # transaction (cogs/suggestions/vote_writer.py). With `batched` off, each press is its own
    # transaction instead (a `VoteUnit`): the path before the writer, kept as the reference the
    # tests and `fanloop bench votes` compare the writer with.

    async def vote(
        self, community_id: int, sid: int, account_id: int, *, receipt: Receipt | None = None
    ) -> tuple[SuggestionRow, bool, int | None]:
        """Vote: (row, added, redirected from). A receipt is recorded with the vote."""
        if not self.batched:
            return await self._vote_alone(community_id, sid, account_id)
        out = await self.writer.press(VoteKind.VOTE, community_id, sid, account_id, _key(receipt))
        return out.row, out.changed, out.redirected

    async def unvote(
        self, community_id: int, sid: int, account_id: int, *, receipt: Receipt | None = None
    ) -> tuple[SuggestionRow, bool]:
        """Take a vote back: (row, removed)."""
        if not self.batched:
            return await self._unvote_alone(community_id, sid, account_id)
        out = await self.writer.press(VoteKind.UNVOTE, community_id, sid, account_id, _key(receipt))
        return out.row, out.changed

    async def toggle(
        self, community_id: int, sid: int, account_id: int, *, receipt: Receipt | None = None
    ) -> tuple[SuggestionRow, bool, int | None]:
        """+1 button: vote, or take the vote back when already given. Returns (row, voted now,
        redirected from). A redelivered press (its receipt recorded before) changes nothing."""
        if not self.batched:
            return await self._toggle_alone(community_id, sid, account_id)
        out = await self.writer.press(VoteKind.TOGGLE, community_id, sid, account_id, _key(receipt))
        return out.row, out.voted, out.redirected

    # -- one transaction per press (the reference path) --------------------------------------

    async def _target(self, unit: VoteUnit, community_id: int, sid: int) -> Target:
        target = await unit.target(community_id, sid)
        if target is None or target.row.hidden:
            raise UserError("suggest.unknown", id=sid)
        return target

    async def _votable(
        self, unit: VoteUnit, community_id: int, sid: int
    ) -> tuple[Target, int | None]:
        """The suggestion a vote for `sid` lands on (a merged one redirects to its original)."""
        target = await self._target(unit, community_id, sid)
        redirected_from = None
        seen = {target.row.id}
        while target.row.merged_into is not None:
            redirected_from = redirected_from or target.row.id
            target = await self._target(unit, community_id, target.row.merged_into)
            if target.row.id in seen:
                break
            seen.add(target.row.id)
        row = target.row
        if row.status in CLOSED_FOR_VOTES:
            raise UserError("vote.closed", id=row.id, status=row.status)
        return target, redirected_from

    async def _vote_alone(
        self, community_id: int, sid: int, account_id: int
    ) -> tuple[SuggestionRow, bool, int | None]:
        async with self.votes.unit(account_id, self.clock.now()) as unit:
            target, redirected = await self._votable(unit, community_id, sid)
            added = await unit.add(target)
            return unit.counted(target.row), added, redirected

    async def _unvote_alone(
        self, community_id: int, sid: int, account_id: int
    ) -> tuple[SuggestionRow, bool]:
        async with self.votes.unit(account_id, self.clock.now()) as unit:
            target = await self._target(unit, community_id, sid)
            removed = await unit.remove(target)
            return unit.counted(target.row), removed

    async def _toggle_alone(
        self, community_id: int, sid: int, account_id: int
    ) -> tuple[SuggestionRow, bool, int | None]:
        async with self.votes.unit(account_id, self.clock.now()) as unit:
            target, redirected = await self._votable(unit, community_id, sid)
            if target.voted:
                await unit.remove(target)
                return unit.counted(target.row), False, redirected
            added = await unit.add(target)
            return unit.counted(target.row), added, redirected

    async def voters(self, sid: int) -> list[int]:
        return await self.votes.voters(sid)

    # -- admin -------------------------------------------------------------------------------

    async def merge(self, community_id: int, dup_id: int, orig_id: int, actor: int) -> MergeResult:
        if dup_id == orig_id:
            raise UserError("merge.self")
        dup = await self.get(community_id, dup_id, include_hidden=True)
        orig = await self.get(community_id, orig_id, include_hidden=True)
        for row in (dup, orig):
            if row.deleted:
                raise UserError("delete.is_deleted", id=row.id)
        if dup.status == SuggestionStatus.DUPLICATE:
            raise UserError("merge.already", id=dup.id, into=dup.merged_into)
        if orig.status == SuggestionStatus.DUPLICATE:
            final = await self._final(community_id, orig)
            raise UserError("merge.into_duplicate", id=orig.id, into=final.id)
        result = await self.merges.merge(community_id, dup_id, orig_id, actor, self.clock.now())
        await self._reindex(result.duplicate)
        await self._emit(
            SUGGESTION_MERGED,
            result.duplicate,
            f"merge:{result.merge_id}",
            {"into": event_data(result.original), "added_votes": result.added_votes},
        )
        return result

    async def _final(self, community_id: int, row: SuggestionRow) -> SuggestionRow:
        """Where a merged suggestion's votes end up: the end of its chain of merges."""
        seen = {row.id}
        while row.status == SuggestionStatus.DUPLICATE and row.merged_into not in (None, *seen):
            assert row.merged_into is not None
            seen.add(row.merged_into)
            row = await self.get(community_id, row.merged_into, include_hidden=True)
        return row

    async def unmerge(
        self, community_id: int, dup_id: int, actor: int
    ) -> tuple[SuggestionRow, int, int]:
        dup = await self.get(community_id, dup_id, include_hidden=True)
        if dup.status != SuggestionStatus.DUPLICATE or await self.merges.last_merge(dup_id) is None:
            raise UserError("unmerge.not_merged", id=dup_id)
        original, taken = await self.merges.unmerge(community_id, dup_id, actor, self.clock.now())
        row = await self.get(community_id, dup_id, include_hidden=True)
        await self._reindex(row)
        await self._emit(
            SUGGESTION_UNMERGED,
            row,
            _changed("unmerge", row),
            {"from": {"id": original}, "removed_votes": taken},
        )
        return row, original, taken

    async def set_status(
        self, community_id: int, sid: int, status: str, note: str | None, actor: int
    ) -> tuple[str, SuggestionRow]:
        if status not in STATUS_FLOW:
            raise UserError("status.unknown", value=status, choices=", ".join(STATUS_FLOW))
        row = await self.get(community_id, sid, include_hidden=True)
        if row.status == SuggestionStatus.DUPLICATE:
            raise UserError("status.is_duplicate", id=sid, into=row.merged_into)
        if row.status == status and (note or None) == row.status_note:
            raise UserError("status.same", id=sid)
        old, new = await self.repo.set_status(
            community_id, sid, status, note, actor, self.clock.now()
        )
        # One change: from `old` to the new status at that instant.
        key = f"status:{sid}:{old}>{new.status}:{new.updated_at.isoformat()}"
        await self._emit(SUGGESTION_STATUS, new, key, {"old_status": old})
        return old, new

    async def _emit(self, type: str, row: SuggestionRow, key: str, extra: dict[str, Any]) -> None:
        if self.events is None or row.hidden:  # a hidden post is told to no one
            return
        await self.events.emit(
            row.community_id, type, {"suggestion": event_data(row), **extra}, key=key
        )

    async def _emit_gone(self, type: str, row: SuggestionRow, key: str) -> None:
        """A suggestion taken out of sight (hidden, deleted): its id alone, never its text."""
        if self.events is not None:
            await self.events.emit(row.community_id, type, {"suggestion": {"id": row.id}}, key=key)

    async def set_hidden(
        self, community_id: int, sid: int, hidden: bool, actor: int
    ) -> SuggestionRow:
        row = await self.get(community_id, sid, include_hidden=True)
        if row.deleted:
            raise UserError("delete.is_deleted", id=sid)
        was_hidden = row.hidden
        await self.repo.set_hidden(community_id, sid, hidden, actor, self.clock.now())
        row = await self.get(community_id, sid, include_hidden=True)
        await self._reindex(row)
        if hidden and not was_hidden:
            await self._emit_gone(SUGGESTION_HIDDEN, row, _changed("hide", row))
        elif was_hidden and not hidden:
            await self._emit(SUGGESTION_SHOWN, row, _changed("show", row), {})
        return row

    # -- corrections ---------------------------------------------------------------------------
    #
    # An author edits or deletes their own suggestion within the community's window after
    # posting it; admins edit and delete any at any time, and alone restore. Every change is a
    # suggestion event: the index here is updated at once, other processes' through the feed.

    async def _correctable(
        self, community_id: int, sid: int, actor: int, admin: bool, window: timedelta
    ) -> SuggestionRow:
        row = await self.get(community_id, sid, include_hidden=admin)
        if row.deleted:
            raise UserError("delete.is_deleted", id=sid)
        if admin:
            return row
        if row.author_id != actor:
            raise UserError("edit.not_yours", id=sid)
        if row.status == SuggestionStatus.DUPLICATE:
            raise UserError("status.is_duplicate", id=sid, into=row.merged_into)
        if self.clock.now() - row.created_at > window:
            raise UserError("edit.too_late", id=sid, window=format_duration(window.total_seconds()))
        return row

    async def edit(
        self,
        community_id: int,
        sid: int,
        actor: int,
        *,
        admin: bool,
        window: timedelta,
        title: str | None = None,
        details: str | None = None,
    ) -> SuggestionRow:
        if title is None and details is None:
            raise UserError("edit.nothing")
        row = await self._correctable(community_id, sid, actor, admin, window)
        new_title = row.title if title is None else title.strip()
        new_details = row.details if details is None else details.strip()
        if (new_title, new_details) == (row.title, row.details):
            raise UserError("edit.same", id=sid)
        edited = await self.repo.edit(
            community_id, sid, new_title, new_details, actor, self.clock.now()
        )
        await self._reindex(edited)
        old = {"title": row.title, "details": row.details}
        await self._emit(SUGGESTION_EDITED, edited, _changed("edit", edited), {"old": old})
        return edited

    async def delete(
        self, community_id: int, sid: int, actor: int, *, admin: bool, window: timedelta
    ) -> SuggestionRow:
        before = await self._correctable(community_id, sid, actor, admin, window)
        await self.repo.delete(community_id, sid, actor, self.clock.now())
        row = await self.get(community_id, sid, include_hidden=True)
        await self._reindex(row)
        if not before.hidden:  # a hidden one was never told, nor is its deletion
            await self._emit_gone(SUGGESTION_DELETED, row, _changed("delete", row))
        return row

    async def restore(self, community_id: int, sid: int, actor: int) -> SuggestionRow:
        row = await self.get(community_id, sid, include_hidden=True)
        if not row.deleted:
            raise UserError("restore.not_deleted", id=sid)
        await self.repo.restore(community_id, sid, actor, self.clock.now())
        row = await self.get(community_id, sid, include_hidden=True)
        await self._reindex(row)
        await self._emit(SUGGESTION_RESTORED, row, _changed("restore", row), {})
        return row

    async def set_response(
        self, community_id: int, sid: int, text: str | None, actor: int
    ) -> SuggestionRow:
        row = await self.get(community_id, sid, include_hidden=True)
        if row.deleted:
            raise UserError("delete.is_deleted", id=sid)
        text = (text or "").strip() or None
        if text == row.response:
            raise UserError("response.same", id=sid)
        return await self.repo.set_response(community_id, sid, text, actor, self.clock.now())

    async def unship(self, community_id: int, sid: int, version: str, actor: int) -> bool:
        """A release taken back: a suggestion it marked shipped returns to the status it had
        before (False when it was not shipped by `version`, or was changed since)."""
        row = await self.repo.get(community_id, sid)
        if row is None or row.status != SuggestionStatus.SHIPPED or row.status_note != version:
            return False
        before = await self.repo.status_before(sid)
        if before not in STATUS_FLOW or before == SuggestionStatus.SHIPPED:
            before = SuggestionStatus.PLANNED
        await self.repo.set_status(community_id, sid, before, None, actor, self.clock.now())
        return True

    async def rename_shipped(self, community_id: int, ids: list[int], old: str, new: str) -> None:
        await self.repo.set_shipped_note(community_id, ids, old, new, self.clock.now())


async def _never(community_id: int) -> bool:
    return False


def _changed(kind: str, row: SuggestionRow) -> str:
    """An event's key for a change of `row` (the same however often its emission runs)."""
    return f"{kind}:{row.id}:{row.updated_at.isoformat()}"


def event_data(row: SuggestionRow) -> dict[str, Any]:
    """A suggestion as events show it."""
    return {
        "id": row.id,
        "title": row.title,
        "details": row.details,
        "category": row.category,
        "status": row.status,
        "status_note": row.status_note,
        "merged_into": row.merged_into,
        "votes": row.votes,
        "created_at": row.created_at.isoformat(),
    }


def _rank(
    entries: list[BoardEntry], times: list[tuple[int, float]], now: float, half_life: timedelta
) -> list[tuple[BoardEntry, float]]:
    scores = heat_from_seconds(times, now, half_life)
    # (heat, votes, id), all descending: stable sorts from the last key to the first, each on
    # one number (quicker than one sort on tuples).
    entries.sort(key=lambda e: e.id, reverse=True)
    entries.sort(key=lambda e: e.votes, reverse=True)
    entries.sort(key=lambda e: scores.get(e.id, 0.0), reverse=True)
    return [(e, scores.get(e.id, 0.0)) for e in entries]


def _apply(
    idx: SimilarityIndex, sid: int, title: str, details: str, status: str, hidden: bool
) -> None:
    """Index a suggestion as it is now: out when hidden or merged into another."""
    if not _visible(status, hidden):
        idx.remove(sid)
    else:
        idx.add(sid, _doc(title, details))


def _visible(status: str, hidden: bool) -> bool:
    """Whether the index holds a suggestion: not when hidden or merged into another."""
    return not hidden and status != SuggestionStatus.DUPLICATE


def _key(receipt: Receipt | None) -> tuple[str, str] | None:
    return (receipt.platform, receipt.event_id) if receipt is not None else None


def _doc(title: str, details: str) -> str:
    # The first line is the title: the index weighs it above the details.
    return f"{title}\n{details}"


def _posted_id(draft: DraftRow | None) -> int | str:
    return draft.posted_id if draft and draft.posted_id else "?"
