"""Whatever numbers, ids and times a member types, the answer is a reply or a localized error,
never an internal error: every registered command gets arbitrary integers (huge and negative
ones included) in its integer parameters and arbitrary times and durations in its time
parameters, every registered action prefix gets arbitrary id arguments, as fan, admin and owner.
The scheduler's tick that follows logs no error either."""

from __future__ import annotations

import itertools
import logging
import shlex
from datetime import datetime

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.console import ConsoleAdapter
from bot.core.commands import CommandSpec, Param, ParamType, Role

PROPERTY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

EDGES = [0, 1, -1, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**53, 2**63 - 1, 2**63, 2**64]
integers = st.one_of(st.sampled_from(EDGES), st.integers(-5, 5), st.integers())
times = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(
    lambda at: at.isoformat(timespec="minutes")
)
durations = st.builds(
    lambda n, unit: f"{n}{unit}", st.integers(0, 10**25), st.sampled_from("wdhms")
)
roles = st.sampled_from(list(Role))
# Action arguments as the bot writes them (numbers) and as a forged button might carry them.
action_args = st.lists(
    st.one_of(integers.map(str), st.text(alphabet="0123456789#-+_ ²١", max_size=30)), max_size=4
)

_names = itertools.count(1)


def _value(param: Param, draw: st.DrawFn) -> str | None:
    """A value for `param`: arbitrary where it is a number or a time, plausible otherwise."""
    t = param.type
    if t is ParamType.INT:
        return str(draw(integers))
    if t is ParamType.DATETIME:
        return draw(times)
    if t is ParamType.DURATION:
        return draw(durations)
    if not param.required:
        return None
    if t is ParamType.CHOICE:
        return param.choices[0]
    if t is ParamType.BOOL:
        return "on"
    if t is ParamType.MEMBER:
        return "you"
    return "Dark mode"


@st.composite
def command_lines(draw: st.DrawFn, specs: list[CommandSpec]) -> str:
    spec = draw(st.sampled_from(specs))
    parts = [f"/{spec.name}"]
    for param in spec.params:
        value = _value(param, draw)
        if value is not None:
            parts.append(shlex.quote(f"{param.name}={value}"))
    return " ".join(parts)


@pytest_asyncio.fixture
async def seeded(console: ConsoleAdapter) -> ConsoleAdapter:
    """A suggestion, a drop and a member to find, so small ids reach real rows."""
    for line in [
        '/suggest "Dark mode for the app" "The white screen hurts at night"',
        "/drop create Shirts 5 2026-11-21T09:00 lottery",
        "/drop create Caps 3 2026-11-20T10:00",
        "/as alice fan",
        "/reserve 2",
        "/as you owner",
    ]:
        await console.handle_line(line)
    return console


def _internal_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@PROPERTY
@given(data=st.data(), role=roles)
async def test_commands_with_any_numbers_and_times(
    seeded: ConsoleAdapter, caplog: pytest.LogCaptureFixture, data: st.DataObject, role: Role
) -> None:
    app = seeded.app
    specs = [
        s
        for s in app.commands.all()
        if any(p.type in (ParamType.INT, ParamType.DATETIME, ParamType.DURATION) for p in s.params)
    ]
    line = data.draw(command_lines(specs), label="line")
    caplog.clear()
    caplog.set_level(logging.WARNING)
    await seeded.handle_line(f"/as p{next(_names)} {role.name.lower()}")
    events = await seeded.handle_line(line)
    await app.run_due()
    assert events, line
    assert not _internal_errors(caplog), line


@PROPERTY
@given(data=st.data(), role=roles, args=action_args)
async def test_actions_with_any_ids(
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
    await seeded.handle_line(f"/as p{next(_names)} {role.name.lower()}")
    ctx = await seeded.context()
    reply = await app.dispatcher.press(ctx, action)
    await app.dispatcher.relabel(ctx, action, "👍 +1")
    await app.run_due()
    assert reply.text or reply.title, action
    assert not _internal_errors(caplog), action
