"""Text platforms read commands the way people type them: an unquoted title takes its line, a
drop's trailing free text is its description, blank titles and misspelt options are refused,
and refused commands do not use up a member's rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import CommandSpec, Param, ParamType, Role, parse_args, split_line
from bot.core.errors import UserError
from bot.core.reply import Reply
from cogs.drops.service import DropService
from cogs.suggestions.service import SuggestionService
from tests.helpers import member


async def _one(console: ConsoleAdapter, line: str) -> Reply:
    events = await console.handle_line(line)
    assert events, line
    return events[0].reply


async def _titles(app: App) -> list[tuple[str, str]]:
    rows = await app.services.get(SuggestionService).newest(1, limit=50)
    return sorted((r.title, r.details) for r in rows)


async def test_an_unquoted_title_takes_its_line(console: ConsoleAdapter) -> None:
    await console.handle_line("/suggest Dark mode for the settings page")
    await console.handle_line("/suggest Export my votes as CSV | so I can keep them category=none")
    await console.handle_line("/suggest Offline reading\nSave articles to read on the train.")
    await console.handle_line('/suggest "Bigger fonts" on the phone app')
    assert await _titles(console.app) == [
        ("Bigger fonts", "on the phone app"),
        ("Dark mode for the settings page", ""),
        ("Export my votes as CSV", "so I can keep them"),
        ("Offline reading", "Save articles to read on the train."),
    ]


def test_details_keep_their_line_breaks() -> None:
    spec = CommandSpec(
        "suggest",
        "help.suggest",
        lambda ctx: None,  # type: ignore[arg-type,return-value]
        (
            Param("title", line=True),
            Param("details", required=False, rest=True),
        ),
    )
    tokens = split_line("Dark mode | first line\nsecond | line")
    assert parse_args(spec, tokens) == {
        "title": "Dark mode",
        "details": "first line\nsecond | line",
    }


@pytest.mark.parametrize(
    "title",
    [
        "\u200b\u200b\u200b",
        "\u200b\u200c\u200d\u2060",
        "\u3164\u3164\u3164",
        " \ufeff\u00a0 ",
        "a\u200b\u200b",
    ],
)
async def test_a_title_that_shows_nothing_is_refused(console: ConsoleAdapter, title: str) -> None:
    reply = await _one(console, f'/suggest "{title}"')
    assert reply.error and reply.text == "title is too short: at least 3 characters."
    assert await _titles(console.app) == []


async def test_invisible_characters_around_a_title_are_dropped(console: ConsoleAdapter) -> None:
    await console.handle_line('/suggest "\u200bDark mode\u200d\u2060"')
    assert await _titles(console.app) == [("Dark mode", "")]


async def test_a_drops_trailing_text_is_its_description(console: ConsoleAdapter) -> None:
    ok = [
        "/drop create Shirts 5 2026-11-21T09:00 lottery Limited edition shirts",
        "/drop create Caps 3 2026-11-21T09:00 Two colours, one size",
        "/drop create Mugs 2 2026-11-21T09:00 flash confirm=1d waitlist=2 Great mugs",
    ]
    for line in ok:
        assert not (await _one(console, line)).error, line
    drops = await console.app.services.get(DropService).drops.of_community(1)
    got = sorted((d.name, d.mode, d.description, d.roles, d.waitlist) for d in drops)
    assert got == [
        ("Caps", "flash", "Two colours, one size", None, 3),
        ("Mugs", "flash", "Great mugs", None, 2),
        ("Shirts", "lottery", "Limited edition shirts", None, 5),
    ]


@pytest.mark.parametrize(
    ("line", "text"),
    [
        (
            "/drop create Mugs 2 2026-11-21T09:00 limt=2 Great mugs",
            "There is no option “limt=”. Did you mean “limit=”?",
        ),
        (
            "/drop create Mugs 2 2026-11-21T09:00 roles=VIP Great mugs",
            "Only Discord gives members roles: set roles= from Discord. Here nobody could ever "
            "reserve this drop.",
        ),
        (
            "/drop create Mugs 2 2026-11-21T09:00 tiers=platinum",
            "There is no tier platinum here (tiers: gold). Create it with /tier set first.",
        ),
        (
            "/drop create Mugs 2 2026-11-21T09:00 confirm=0s",
            "The confirmation deadline must be between 1 minute and 30 days.",
        ),
    ],
)
async def test_a_drop_nobody_could_take_part_in_is_refused(
    console: ConsoleAdapter, line: str, text: str
) -> None:
    await console.handle_line("/tier set gold 10")
    reply = await _one(console, line)
    assert reply.error and reply.text == text
    assert await console.app.services.get(DropService).drops.of_community(1) == []


async def test_a_drop_with_a_known_tier_is_created(console: ConsoleAdapter) -> None:
    await console.handle_line("/tier set gold 10")
    reply = await _one(console, "/drop create Mugs 2 2026-11-21T09:00 tiers=Gold For the best")
    assert not reply.error, reply.text


async def test_refused_commands_do_not_use_up_the_rate_limit(app: App, clock: FakeClock) -> None:
    fan = await member(app, "fan")
    for _ in range(10):
        assert (await app.dispatcher.run_line(fan, '/suggest "\u200b"')).error
    replies = [
        await app.dispatcher.run_line(fan, f'/suggest "Idea {n} of mine" force') for n in range(6)
    ]
    assert [r.error for r in replies] == [False] * 5 + [True]
    owner = await member(app, "owner", Role.OWNER)
    for _ in range(30):
        assert (await app.dispatcher.run_line(owner, "/settings language klingon")).error
    assert not (await app.dispatcher.run_line(owner, "/settings language zh_CN")).error


async def test_a_flood_of_refused_commands_is_still_slowed_down(app: App, clock: FakeClock) -> None:
    fan = await member(app, "fan")
    replies = [await app.dispatcher.run_line(fan, "/vote 999") for _ in range(61)]
    assert all(r.error for r in replies)
    assert "try again in" in replies[-1].text and "try again in" not in replies[-2].text
    clock.advance(timedelta(minutes=1))
    assert "try again in" not in (await app.dispatcher.run_line(fan, "/vote 999")).text


async def test_nul_characters_never_reach_the_database(console: ConsoleAdapter) -> None:
    """PostgreSQL cannot store NUL in text: a title, a reply and a name carrying one are kept
    without it instead of failing the command."""
    reply = await _one(console, "/suggest Dark\x00 mode\nfor the\x00 settings")
    assert not reply.error, reply.text
    assert await _titles(console.app) == [("Dark mode", "for the settings")]


async def test_lone_surrogates_are_kept_as_replacement_characters(
    console: ConsoleAdapter,
) -> None:
    """A JSON escape of half a surrogate pair ("\\ud800", which a platform may pass on) cannot
    be stored as UTF-8: it is kept as U+FFFD instead of failing the command."""
    reply = await _one(console, "/suggest Dark\ud800 mode\nfor the settings")
    assert not reply.error, reply.text
    assert await _titles(console.app) == [("Dark\ufffd mode", "for the settings")]


def test_the_separator_after_a_quoted_title_or_for_an_optional_one() -> None:
    """`"Dark mode" | details` drops the separator as an unquoted title does; an optional title
    (`/edit 12 | new details`) may be left out by starting with the separator."""
    required = CommandSpec(
        "suggest",
        "help.suggest",
        lambda ctx: None,  # type: ignore[arg-type,return-value]
        (Param("title", min=3, line=True), Param("details", required=False, rest=True)),
    )
    assert parse_args(required, split_line('"Dark mode" | at night')) == {
        "title": "Dark mode",
        "details": "at night",
    }
    with pytest.raises(UserError):  # a required title is not left out
        parse_args(required, split_line("| at night"))
    optional = CommandSpec(
        "edit",
        "help.edit",
        lambda ctx: None,  # type: ignore[arg-type,return-value]
        (
            Param("id", ParamType.INT),
            Param("title", required=False, line=True),
            Param("details", required=False, rest=True),
        ),
    )
    assert parse_args(optional, split_line("12 | new | details")) == {
        "id": 12,
        "title": None,
        "details": "new | details",
    }
