"""What a new owner meets first: a command group alone (`/drop`) or `/help drop` lists its
commands, errors and help name parameters in the member's language, durations read the way
they are typed, and a language can be chosen by the words people use for it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.console import ConsoleAdapter
from bot.core.clock import format_duration, local_time, parse_duration
from bot.core.reply import Reply


async def _one(console: ConsoleAdapter, line: str) -> Reply:
    events = await console.handle_line(line)
    assert events, line
    return events[0].reply


@pytest.mark.parametrize("line", ["/drop", "/help drop", "/help /drop", "/DROP"])
async def test_a_group_alone_lists_its_commands(console: ConsoleAdapter, line: str) -> None:
    reply = await _one(console, line)
    assert not reply.error
    names = {row.split(" — ")[0] for row in reply.text.splitlines()}
    drop = {f"/{s.name}" for s in console.app.commands.all() if s.name.startswith("drop ")}
    assert names == drop and "/drop create" in names


async def test_a_fan_sees_only_the_group_commands_for_fans(console: ConsoleAdapter) -> None:
    await console.handle_line("/as fan1 fan")
    reply = await _one(console, "/report")
    assert "/report fill" in reply.text and "/report open" not in reply.text


async def test_an_unknown_command_in_a_group_points_to_the_group(
    console: ConsoleAdapter,
) -> None:
    reply = await _one(console, "/drop frobnicate")
    assert reply.error and "/drop" in reply.text and "frobnicate" not in reply.text


async def test_help_explains_a_subcommand(console: ConsoleAdapter) -> None:
    reply = await _one(console, "/help drop create")
    assert not reply.error and reply.title == "/drop create" and "quota" in reply.text


async def test_parameter_names_are_in_the_members_language(console: ConsoleAdapter) -> None:
    await console.handle_line("/language zh_cn")
    assert (await _one(console, "/vote 3.5")).text == "编号（id） 必须是整数，而不是“3.5”。"
    assert (await _one(console, "/drop create")).text.startswith("缺少 名称（name）")
    assert "名额（quota）: " in (await _one(console, "/help drop create")).text
    await console.handle_line("/language en")
    assert (await _one(console, "/vote 3.5")).text == "id must be a whole number, not “3.5”."


async def test_an_empty_text_is_said_to_be_empty(console: ConsoleAdapter) -> None:
    reply = await _one(console, '/release new 1.0 ""')
    assert reply.error and "must not be empty" in reply.text and "1 characters" not in reply.text


async def test_settings_show_durations_as_typed(console: ConsoleAdapter) -> None:
    assert "is now 1d12h" in (await _one(console, "/settings fourgrid_duration 36h")).text
    assert (await _one(console, "/settings fourgrid_duration")).text.startswith(
        "fourgrid_duration = 1d12h"
    )


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("zh", "语言已设为"),
        ("中文", "语言已设为"),
        ("zh-CN", "语言已设为"),
        ("zh_tw", "語言已設為：繁體中文"),
        ("繁體中文", "語言已設為"),
        ("zh-HK", "語言已設為"),
        ("English", "Language set"),
    ],
)
async def test_a_language_by_the_words_people_use(
    console: ConsoleAdapter, typed: str, answer: str
) -> None:
    assert (await _one(console, f"/language {typed}")).text.startswith(answer)


@given(st.integers(0, 10**8))
def test_a_shown_duration_reads_back_as_itself(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)).total_seconds() == seconds


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("Asia/Shanghai", "2026-12-01 20:00 UTC+8"),
        ("Asia/Kolkata", "2026-12-01 17:30 UTC+5:30"),
        ("America/St_Johns", "2026-12-01 08:30 UTC-3:30"),
        ("UTC", "2026-12-01 12:00 UTC"),
    ],
)
def test_times_carry_their_offset_not_an_abbreviation(zone: str, shown: str) -> None:
    assert local_time(datetime(2026, 12, 1, 12, 0, tzinfo=UTC), ZoneInfo(zone)) == shown


async def test_a_drop_card_names_the_zone_by_its_offset(console: ConsoleAdapter) -> None:
    await console.handle_line("/settings timezone Asia/Shanghai")
    reply = await _one(console, "/drop create Shirts 5 2027-01-01T20:00")
    shown = " ".join([reply.text, *(f.value for f in reply.fields)])
    assert "2027-01-01 20:00 UTC+8" in shown and "CST" not in shown


async def test_a_member_reading_traditional_chinese_is_answered_in_it(
    console: ConsoleAdapter,
) -> None:
    await console.handle_line("/language zh_tw")
    # Taiwan's words, in traditional characters: 设置 is 設定 there.
    text = (await _one(console, "/help settings")).text
    assert "社群設定" in text and "设置" not in text
    await console.handle_line("/language en")
