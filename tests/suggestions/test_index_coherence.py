"""Invariant: whatever posts, hides, merges, unmerges, edits, deletes and restores one process
makes, another process's similar-suggestion index, once the change feed has delivered, holds
exactly what an index built from the database would: the visible suggestions that are not merged
duplicates, with their current text. Two Apps, each with its own engine and change feed, on one
PostgreSQL schema."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from bot.core.errors import UserError
from cogs.suggestions.service import SuggestionService
from cogs.suggestions.similarity.dedup_index import DedupIndex
from cogs.suggestions.status import SuggestionStatus
from config.settings import FanloopSettings
from tests.feeds import two_listening_apps
from tests.helpers import member

pytestmark = pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)

WINDOW = timedelta(hours=1)
_spaces = itertools.count()
_probes = itertools.count()
WORDS = ["dark", "mode", "lyrics", "lock", "screen", "battery", "offline", "maps", "widget"]

ops = st.lists(
    st.one_of(
        st.tuples(st.just("post"), st.sampled_from(WORDS), st.sampled_from(WORDS)),
        st.tuples(
            st.sampled_from(["hide", "unhide", "unmerge", "delete", "restore"]), st.integers(0, 5)
        ),
        st.tuples(st.just("edit"), st.integers(0, 5), st.sampled_from(WORDS)),
        st.tuples(st.just("merge"), st.integers(0, 5), st.integers(0, 5)),
    ),
    min_size=1,
    max_size=12,
)


@pytest_asyncio.fixture
async def two_apps(
    db_kind: str, tmp_path: Path, settings: FanloopSettings, clock: FakeClock
) -> AsyncIterator[tuple[App, App, list[int]]]:
    async with two_listening_apps(db_kind, tmp_path, settings, clock) as (a, b):
        heard: list[int] = []
        b.changes.subscribe("probe", lambda data: heard.append(int(data["n"])))
        yield a, b, heard


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=ops)
async def test_the_other_index_holds_what_the_database_does(
    two_apps: tuple[App, App, list[int]],
    sequence: list[tuple],  # type: ignore[type-arg]
) -> None:
    a, b, heard = two_apps
    space = f"coherence-{next(_spaces)}"
    author = await member(a, "author", space=space)
    admin = await member(a, "admin", Role.ADMIN, space=space)
    cid = author.community.id
    sa, sb = a.services.get(SuggestionService), b.services.get(SuggestionService)
    await sb.index(cid)  # built before the changes: only the feed brings them
    posted: list[int] = []
    for op in sequence:
        try:
            if op[0] == "post":
                sub = await sa.submit(
                    cid, author.member.account_id, f"{op[1]} {op[2]}", "", None, force=True
                )
                assert sub.posted is not None
                posted.append(sub.posted.id)
            elif posted and op[0] in ("hide", "unhide"):
                sid = posted[op[1] % len(posted)]
                await sa.set_hidden(cid, sid, op[0] == "hide", admin.member.account_id)
            elif posted and op[0] == "unmerge":
                await sa.unmerge(cid, posted[op[1] % len(posted)], admin.member.account_id)
            elif posted and op[0] == "delete":
                sid = posted[op[1] % len(posted)]
                await sa.delete(cid, sid, admin.member.account_id, admin=True, window=WINDOW)
            elif posted and op[0] == "restore":
                await sa.restore(cid, posted[op[1] % len(posted)], admin.member.account_id)
            elif posted and op[0] == "edit":
                sid = posted[op[1] % len(posted)]
                await sa.edit(
                    cid, sid, admin.member.account_id, admin=True, window=WINDOW, details=op[2]
                )
            elif posted and op[0] == "merge":
                dup, orig = (posted[i % len(posted)] for i in op[1:])
                await sa.merge(cid, dup, orig, admin.member.account_id)
        except UserError:
            pass  # refused (merge into itself, unmerge of one not merged): changes nothing

    await _settled(a, b, heard)
    rows = await sa.repo.all_for_index(cid, excluded_status=SuggestionStatus.DUPLICATE)
    expected = {sid for sid, *_ in rows}
    for service in (sa, sb):
        idx = await service.index(cid)
        assert set(idx._store.doc_slot) == expected  # type: ignore[attr-defined]


async def test_an_edit_in_one_process_moves_the_other_index(
    two_apps: tuple[App, App, list[int]],
) -> None:
    a, b, heard = two_apps
    author = await member(a, "author", space="edits")
    cid, me = author.community.id, author.member.account_id
    sa, sb = a.services.get(SuggestionService), b.services.get(SuggestionService)
    sub = await sa.submit(cid, me, "Dark mode for the app", "too bright at night", None)
    other = await sa.submit(cid, me, "Offline maps for hiking", "download a region", None)
    assert sub.posted is not None and other.posted is not None
    sid, gone = sub.posted.id, other.posted.id
    assert [r.id for r, _ in await sb.similar(cid, "dark mode app")] == [sid]
    await sa.edit(cid, sid, me, admin=False, window=WINDOW, title="Battery saver widget")
    await sa.delete(cid, gone, me, admin=False, window=WINDOW)
    await _settled(a, b, heard)
    assert [r.id for r, _ in await sb.similar(cid, "battery saver widget")] == [sid]
    assert await sb.similar(cid, "offline maps for hiking") == []
    await sa.restore(cid, gone, me)
    await _settled(a, b, heard)
    assert [r.id for r, _ in await sb.similar(cid, "offline maps for hiking")] == [gone]


async def test_a_change_heard_while_the_board_is_read_is_applied_after(
    two_apps: tuple[App, App, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """B reads the board in a worker thread; a change A makes meanwhile may be missing from
    what B read, so B applies it once its index is published."""
    a, b, heard = two_apps
    author = await member(a, "author", space="mid-build")
    admin = await member(a, "admin", Role.ADMIN, space="mid-build")
    cid = author.community.id
    sa, sb = a.services.get(SuggestionService), b.services.get(SuggestionService)
    sub = await sa.submit(cid, author.member.account_id, "Offline maps", "", None, force=True)
    assert sub.posted is not None
    fill = DedupIndex.add_many
    loop = asyncio.get_running_loop()
    started, release = asyncio.Event(), threading.Event()

    def held(self: DedupIndex, docs: list[tuple[int, str]]) -> None:
        if any("Offline maps" in text for _, text in docs):
            loop.call_soon_threadsafe(started.set)
            release.wait(10)
        fill(self, docs)

    index_rows, reread = sb.repo.index_rows, asyncio.Event()

    async def rows_then_tell(ids: list[int]) -> object:
        rows = await index_rows(ids)
        reread.set()
        return rows

    monkeypatch.setattr(DedupIndex, "add_many", held)
    monkeypatch.setattr(sb.repo, "index_rows", rows_then_tell)
    build = asyncio.create_task(sb.index(cid))
    await started.wait()  # B has read the board: the suggestion is visible in what it read
    await sa.set_hidden(cid, sub.posted.id, True, admin.member.account_id)
    await reread.wait()  # B has heard the change and read the suggestion as it is now
    release.set()
    await build
    await _settled(a, b, heard)
    assert len(await sb.index(cid)) == 0


async def _settled(a: App, b: App, heard: list[int]) -> None:
    sb = b.services.get(SuggestionService)
    # Messages arrive in commit order: once B hears a probe sent after the changes, it has
    # heard them all; then its re-reads finish.
    probe = next(_probes)
    await a.changes.announce("probe", {"n": probe})
    start = time.monotonic()
    while probe not in heard or (sb._refresher is not None and not sb._refresher.done()):
        assert time.monotonic() - start < 10, "B did not settle"
        await asyncio.sleep(0.01)
