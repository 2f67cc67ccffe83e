"""Whatever a member types or presses, the bot answers with a reply or a localized error, never an
internal error, and the database stays consistent.

Every registered command gets arbitrary words (text in any script, invisible characters, quotes,
new lines, the `|` separator, numbers of any size, `key=value` for its own parameters and for
misspelt ones); every button action and every reply hook gets arbitrary arguments; as fan, admin
and owner, on a community that holds suggestions, drops, reservations and a weekly report. After
each input the invariants hold: no drop holds more slots than its quota, a win holds exactly its
units, every vote and merge points at a suggestion that exists, and so on."""

from __future__ import annotations

import itertools
import logging
import shlex

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.console import ConsoleAdapter
from bot.core.commands import CommandSpec, Role

PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

EDGES = ["0", "1", "-1", "2", "3", "#1", "2147483647", "2147483648", "-2147483649", "9" * 30]
WORDS = [
    "on", "off", "yes", "heat", "votes", "flash", "lottery", "planned", "shipped", "declined",
    "week", "month", "all", "reset", "into", "|", "me", "+1", "2026-11-21T09:00", "2026-11-20",
    "1d", "0s", "30m", "9999-12-31T23:59", "0001-01-01", "you", "alice", "@alice", "zh_CN",
    "language", "timezone", "Asia/Shanghai", "Mars/Olympus", "heat_half_life_days",
]  # fmt: skip
# Letters of several scripts, digits, punctuation the parser cares about, invisible characters.
ALPHABET = st.sampled_from(
    list("abcxyzABC0123456789 -_#@:=|,.;!?+*/\\'\"\n\t")
    + list("中文需求暗色模式")
    + ["\u200b", "\u200d", "\u2060", "\ufeff", "\u202e", "\u3164", "é", "🎉", "👍"]
    + ["\x00", "\ud800"]  # NUL and a lone surrogate: neither can be stored as they are
)
free_text = st.text(ALPHABET, max_size=40)
roles = st.sampled_from(list(Role))
_names = itertools.count(1)


def _word(spec: CommandSpec) -> st.SearchStrategy[str]:
    names = [p.name for p in spec.params] or ["x"]
    values = st.one_of(st.sampled_from(EDGES + WORDS), free_text)
    keyed = st.builds(lambda k, v: f"{k}={v}", st.sampled_from(names), values)
    misspelt = st.builds(lambda k, v: f"{k[:-1]}={v}", st.sampled_from(names), values)
    choices = [c for p in spec.params for c in p.choices]
    return st.one_of(
        st.sampled_from(EDGES + WORDS + choices) if choices else st.sampled_from(EDGES + WORDS),
        st.integers().map(str),
        free_text,
        keyed,
        misspelt,
    )


@st.composite
def command_lines(draw: st.DrawFn, specs: list[CommandSpec]) -> str:
    spec = draw(st.sampled_from(specs))
    words = draw(st.lists(_word(spec), max_size=6))
    quote = draw(st.booleans())
    rendered = [shlex.quote(w) if quote else w for w in words]
    return " ".join([f"/{spec.name}", *rendered])


action_args = st.lists(
    st.one_of(st.sampled_from(EDGES), st.integers().map(str), free_text), max_size=4
)


@pytest_asyncio.fixture
async def seeded(console: ConsoleAdapter) -> ConsoleAdapter:
    """Something of every kind, so that small ids reach real rows in every state."""
    for line in [
        "/tier set gold 5",
        '/suggest "Dark mode for the app" "The white screen hurts at night"',
        '/suggest "Offline reading on the train" force',
        '/suggest "A night theme" force',
        "/merge 3 into 1",
        '/suggest "Hidden one here" force',
        "/hide 4",
        "/status 2 planned Soon",
        "/drop create Shirts 5 2026-11-21T09:00 lottery Limited shirts",
        "/drop create Caps 1 2026-11-20T10:00 waitlist=1",
        "/drop create Mugs 3 2026-11-22T10:00 opens=2026-11-21T10:00",
        "/drop fcodes 1 2",
        "/release new 1.0 Dark mode; Faster start",
        "/as alice fan",
        "/vote 2",
        "/reserve 1",
        "/reserve 2",
        "/as bob fan",
        "/reserve 2",
        "/vote 1",
        "/as you owner",
        "/advance 1h",
        "/as alice",
        "/claim 2",
        "/as you",
    ]:
        await console.handle_line(line)
    return console


async def _check_invariants(engine: AsyncEngine) -> None:
    queries = {
        "a drop holds more slots than its quota": """
            SELECT d.id FROM drops d JOIN drop_slots s ON s.drop_id = d.id
            GROUP BY d.id, d.quota HAVING COUNT(*) > d.quota""",
        "a win's slots differ from its units": """
            SELECT w.drop_id FROM drop_wins w LEFT JOIN drop_slots s
              ON s.drop_id = w.drop_id AND s.account_id = w.account_id
            GROUP BY w.drop_id, w.account_id, w.units HAVING COUNT(s.slot) <> w.units""",
        "a win above the per-account limit": """
            SELECT w.drop_id FROM drop_wins w JOIN drops d ON d.id = w.drop_id
            WHERE w.units > d.per_account""",
        "unused F-codes and slots beyond the quota": """
            SELECT d.id FROM drops d
            WHERE (SELECT COUNT(*) FROM drop_slots s WHERE s.drop_id = d.id)
                + (SELECT COUNT(*) FROM drop_fcodes f WHERE f.drop_id = d.id AND f.used_at IS NULL)
                > d.quota""",
        "a vote for a suggestion that does not exist": """
            SELECT v.suggestion_id FROM votes v LEFT JOIN suggestions s ON s.id = v.suggestion_id
            WHERE s.id IS NULL""",
        "a merge into a suggestion that does not exist": """
            SELECT s.id FROM suggestions s LEFT JOIN suggestions o ON o.id = s.merged_into
            WHERE s.merged_into IS NOT NULL AND o.id IS NULL""",
        "a duplicate without its original, or an original marked duplicate": """
            SELECT id FROM suggestions
            WHERE (status = 'duplicate') <> (merged_into IS NOT NULL) OR merged_into = id""",
        "a reservation of no units": "SELECT drop_id FROM drop_reservations WHERE units < 1",
        "a waiting-list place twice": """
            SELECT drop_id FROM drop_waitlist GROUP BY drop_id, position HAVING COUNT(*) > 1""",
    }
    async with engine.connect() as conn:
        for what, sql in queries.items():
            rows = (await conn.execute(text(sql))).all()
            assert not rows, (what, rows)


def _internal_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def _act_as(console: ConsoleAdapter, role: Role) -> None:
    await console.handle_line(f"/as p{next(_names)} {role.name.lower()}")


@PROPERTY
@given(data=st.data(), role=roles)
async def test_any_command_line(
    seeded: ConsoleAdapter, caplog: pytest.LogCaptureFixture, data: st.DataObject, role: Role
) -> None:
    app = seeded.app
    line = data.draw(command_lines(app.commands.all()), label="line")
    caplog.clear()
    caplog.set_level(logging.WARNING)
    await _act_as(seeded, role)
    events = await seeded.handle_line(line)
    await app.run_due()
    assert events, line
    assert not _internal_errors(caplog), line
    await _check_invariants(app.engine)


@PROPERTY
@given(data=st.data(), role=roles, args=action_args)
async def test_any_button(
    seeded: ConsoleAdapter,
    caplog: pytest.LogCaptureFixture,
    data: st.DataObject,
    role: Role,
    args: list[str],
) -> None:
    app = seeded.app
    prefix = data.draw(st.sampled_from([a.prefix for a in app.actions.all()]), label="prefix")
    action = ":".join([prefix, *args])
    caplog.clear()
    caplog.set_level(logging.WARNING)
    await _act_as(seeded, role)
    ctx = await seeded.context()
    reply = await app.dispatcher.press(ctx, action)
    await app.run_due()
    assert reply.text or reply.title, action
    assert not _internal_errors(caplog), action
    await _check_invariants(app.engine)


@PROPERTY
@given(
    data=st.data(),
    role=roles,
    args=action_args,
    said=st.one_of(st.sampled_from(["+1", "me too", "同求", "reserve", "预约", "👍"]), free_text),
)
async def test_any_reply_to_a_message(
    seeded: ConsoleAdapter,
    caplog: pytest.LogCaptureFixture,
    data: st.DataObject,
    role: Role,
    args: list[str],
    said: str,
) -> None:
    app = seeded.app
    prefix = data.draw(st.sampled_from(app.actions.reply_subjects()), label="subject")
    subject = ":".join([prefix, *args])
    caplog.clear()
    caplog.set_level(logging.WARNING)
    await _act_as(seeded, role)
    ctx = await seeded.context()
    await app.dispatcher.on_reply(ctx, subject, said)
    await app.run_due()
    assert not _internal_errors(caplog), (subject, said)
    await _check_invariants(app.engine)
