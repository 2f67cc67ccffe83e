"""Invariants of corrections: whatever sequence of hides, unhides, deletes and restores, a
suggestion is visible exactly when a model says so (a restore brings back the hidden state it had
before the delete), and an edit changes the text and nothing else (votes, status, author)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.app import App
from bot.core.commands import Role
from bot.core.errors import UserError
from cogs.suggestions.service import SuggestionService
from tests.helpers import member, member_text

PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
WINDOW = timedelta(hours=1)
_spaces = itertools.count()

OPS = st.lists(
    st.one_of(
        st.sampled_from(["hide", "unhide", "delete", "restore"]),
        st.tuples(
            st.just("edit"),
            member_text(min_size=3, max_size=20).filter(str.strip),
        ),
    ),
    max_size=12,
)


@PROPERTY
@given(ops=OPS)
async def test_visibility_and_text_follow_a_model(app: App, ops: list[object]) -> None:
    space = f"props-{next(_spaces)}"
    author = await member(app, "author", space=space)
    admin = await member(app, "admin", Role.ADMIN, space=space)
    voter = await member(app, "voter", space=space)
    cid, me = author.community.id, admin.member.account_id
    svc = app.services.get(SuggestionService)
    sub = await svc.submit(cid, author.member.account_id, "Dark mode", "at night", None)
    assert sub.posted is not None
    sid = sub.posted.id
    await svc.vote(cid, sid, voter.member.account_id)
    hidden = deleted = False
    title = "Dark mode"
    for op in ops:
        name = op[0] if isinstance(op, tuple) else op
        refused = (name == "restore") != deleted  # only a deleted one is restored, and only that
        if isinstance(op, tuple) and op[1].strip() == title:
            refused = True  # nothing to change
        try:
            if name in ("hide", "unhide"):
                await svc.set_hidden(cid, sid, name == "hide", me)
                hidden = name == "hide"
            elif name == "delete":
                await svc.delete(cid, sid, me, admin=True, window=WINDOW)
                deleted = True
            elif name == "restore":
                await svc.restore(cid, sid, me)
                deleted = False
            elif isinstance(op, tuple):
                await svc.edit(cid, sid, me, admin=True, window=WINDOW, title=op[1])
                title = op[1].strip()
            assert not refused, op
        except UserError as exc:
            assert refused, (op, exc.key)
        row = await svc.get(cid, sid, include_hidden=True)
        assert row.deleted == deleted
        assert row.hidden == (hidden or deleted)
        assert row.title == title
        assert row.votes == 2 and row.status == "new" and row.author_id == author.member.account_id
        listed = {r.id for r in await svc.newest(cid)}
        assert (sid in listed) == (not hidden and not deleted)
