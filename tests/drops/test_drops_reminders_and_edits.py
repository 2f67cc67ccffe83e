"""Drops through the console: the reminder before drop time (once per reserver, opt-out, none
for a cancelled drop), edits after reservations open (only what is not structural), and the
live count shown as an update of the drop's card."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.console import ConsoleAdapter
from bot.adapters.console.adapter import OutEvent
from bot.adapters.console.repl import render_text
from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from bot.core.errors import UserError
from cogs.drops.service import EDITABLE, DropService
from tests.conftest import START
from tests.helpers import member, member_text


def texts(events: list[OutEvent], to: str | None = None) -> str:
    return "\n".join(e.reply.plain_text() for e in events if to is None or e.to == to)


async def say(console: ConsoleAdapter, *lines: str) -> list[OutEvent]:
    out: list[OutEvent] = []
    for line in lines:
        out.extend(await console.handle_line(line))
    return out


def reminded(events: list[OutEvent]) -> set[str]:
    return {e.to for e in events if "⏰" in e.reply.plain_text()}


async def test_reminder_edits_and_live_card(console: ConsoleAdapter) -> None:
    out = await say(console, '/drop create Phone 3 "2026-11-20 12:00" confirm=1d Limited edition')
    (card,) = [e for e in out if e.to == "channel"]
    assert not card.update and "Limited edition" in card.reply.plain_text()

    await say(console, "/as alice fan", "/reserve 1", "/as bob fan", "/reserve 1")
    off = texts(await say(console, "/drop reminder 1 off"))
    assert "No reminder" in off and "reservation stays" in off
    await say(console, "/as carol fan", "/reserve 1")
    await say(console, "/as dave fan")
    assert "no reservation" in texts(await say(console, "/drop reminder 1 off"))
    bad = texts(await say(console, "/drop reminder 1 maybe"))
    assert "on" in bad and "off" in bad and "No reminder" not in bad

    # The live count: an update of the card (the console marks it; the platforms edit in place).
    out = await say(console, "/as you", "/advance 1m")
    (update,) = [e for e in out if e.to == "channel"]
    assert update.update and render_text(update, only_you="").startswith("[channel ↻]")
    assert "Reserved: 3" in update.reply.plain_text()
    assert "Limited edition" in update.reply.plain_text()
    assert [label for label, _ in update.actions] and update.actions[0][1] == "dr:1"

    # After opening: the description, the confirmation window and the waiting list only.
    out = await say(console, '/drop edit 1 description="Now in blue too"')
    assert "updated" in texts(out)
    (edited,) = [e for e in out if e.to == "channel"]
    assert edited.update and "Now in blue too" in edited.reply.plain_text()
    assert "Reserved: 3" in edited.reply.plain_text()
    assert "updated" in texts(await say(console, "/drop edit 1 confirm=2h waitlist=1"))
    refused = texts(await say(console, "/drop edit 1 quota=10"))
    assert "quota can no longer change" in refused and "description" in refused
    assert "limit can no longer" in texts(await say(console, "/drop edit 1 limit=2"))
    assert "when can no longer" in texts(await say(console, '/drop edit 1 when="2026-11-21 12:00"'))
    assert "name can no longer" in texts(await say(console, "/drop edit 1 name=Other"))
    # Refused in the member's language, the parameter's name too.
    await say(console, "/language zh_CN")
    zh = texts(await say(console, "/drop edit 1 quota=10"))
    assert "名额（quota）不能再修改" in zh, zh
    await say(console, "/language en")
    # A mix of allowed and structural changes changes nothing.
    assert "can no longer" in texts(await say(console, "/drop edit 1 description=x quota=9"))
    shown = texts(await say(console, "/drop show 1"))
    assert "Now in blue too" in shown and "Quota: 3" in shown

    # A fan may not edit.
    await say(console, "/as alice")
    denied = texts(await say(console, "/drop edit 1 description=mine"))
    assert "owner" in denied.lower() and "updated" not in denied

    # The reminder: 10 minutes before drop time (the default), privately, once, not to Bob.
    out = await say(console, "/advance 2h45m")  # 11:46
    assert reminded(out) == set()
    out = await say(console, "/advance 5m")  # 11:51
    assert reminded(out) == {"alice", "carol"}
    assert "12:00" in texts([e for e in out if e.to == "alice"])
    assert "/drop reminder 1 off" in texts([e for e in out if e.to == "alice"])
    out = await say(console, "/advance 5m", "/advance 1h")
    assert reminded(out) == set()
    assert "is live" in texts(out, "channel")

    # After drop time the confirmation window and the waiting list are fixed; the text is not.
    await say(console, "/as you")
    late = texts(await say(console, "/drop edit 1 waitlist=3"))
    assert "has dropped" in late and "waitlist" in late
    assert "has dropped" in texts(await say(console, "/drop edit 1 confirm=3h"))
    assert "updated" in texts(await say(console, "/drop edit 1 description=Sold"))


async def test_no_reminder_for_a_cancelled_drop_or_when_turned_off(
    console: ConsoleAdapter,
) -> None:
    await say(console, '/drop create Phone 3 "2026-11-20 12:00"')
    await say(console, '/drop create Watch 3 "2026-11-20 12:00" lottery')
    await say(console, "/as alice fan", "/reserve 1", "/reserve 2")
    await say(console, "/drop reminder 2 off")
    assert "will be reminded" in texts(await say(console, "/drop reminder 2 on"))
    await say(console, "/as you", "/drop cancel 1")
    out = await say(console, "/advance 2h55m")
    alice = [e for e in out if e.to == "alice" and "⏰" in e.reply.plain_text()]
    assert [e.reply.plain_text().splitlines()[0] for e in alice] == [
        '⏰ The draw for "Watch" is at 2026-11-20 12:00 UTC: you are in it; winners are '
        "told privately."
    ]
    # The lead time is a community setting; 0 turns reminders off.
    await say(console, '/drop create Tablet 3 "2026-11-20 14:00"')
    assert "0" in texts(await say(console, "/settings drop_reminder_minutes 0"))
    await say(console, "/as alice", "/reserve 3")
    out = await say(console, "/advance 2h")
    assert reminded(out) == set()


_space = iter(range(10**9))
STRUCTURAL = {
    "name": "Other",
    "quota": 7,
    "mode": "lottery",
    "per_account": 2,
    "opens_at": START + timedelta(minutes=30),
    "closes_at": START + timedelta(minutes=50),
    "drop_at": START + timedelta(hours=5),
    "roles": ["VIP"],
    "min_days": 3,
    "min_score": 5,
    "tiers": ["Gold"],
}
ALLOWED = {
    "description": member_text(max_size=20),
    "confirm_seconds": st.integers(60, 30 * 86400),
    "waitlist": st.integers(0, 50),
}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    allowed=st.dictionaries(st.sampled_from(sorted(ALLOWED)), st.none(), max_size=3),
    structural=st.lists(st.sampled_from(sorted(STRUCTURAL)), max_size=3, unique=True),
    data=st.data(),
)
async def test_after_opening_only_non_structural_fields_change(
    app: App,
    clock: FakeClock,
    allowed: dict[str, None],
    structural: list[str],
    data: st.DataObject,
) -> None:
    s = app.services.get(DropService)
    owner = await member(app, "owner", Role.OWNER, space=f"edit-{next(_space)}")
    cid = owner.community.id
    drop = await s.create(
        cid,
        owner.member.account_id,
        name="Phone",
        quota=3,
        drop_at=clock.now() + timedelta(hours=1),
    )
    changes = {k: data.draw(ALLOWED[k]) for k in allowed} | {k: STRUCTURAL[k] for k in structural}
    if not changes:
        return
    before = await s.get(cid, drop.id)
    try:
        after = await s.edit(cid, drop.id, changes)
    except UserError as exc:
        assert structural and exc.key == "drop.error.structural"
        assert await s.get(cid, drop.id) == before  # refused whole: nothing changed
        return
    assert not structural
    for column in EDITABLE:
        expected = changes.get(column, getattr(before, column))
        assert getattr(after, column) == expected, column
