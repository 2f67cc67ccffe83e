"""Commands declared once, parsed from text with clear errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.commands import CommandRegistry, CommandSpec, Param, ParamType, parse_args, split_line
from bot.core.errors import UserError
from bot.core.reply import Reply


async def _noop(ctx: object, **params: object) -> Reply:
    return Reply()


SUGGEST = CommandSpec(
    "suggest",
    "help.suggest",
    _noop,
    (
        Param("title", min=3, max=120),
        Param("details", required=False, max=2000, rest=True),
        Param("category", required=False, max=40),
    ),
)
MERGE = CommandSpec(
    "merge",
    "h",
    _noop,
    (
        Param("duplicate", ParamType.INT, min=1),
        Param("original", ParamType.INT, min=1),
    ),
    fillers=("into",),
)


def test_quoted_title_and_rest_of_line_details() -> None:
    params = parse_args(SUGGEST, split_line('"Dark mode" it is too bright at night'))
    assert params == {
        "title": "Dark mode",
        "details": "it is too bright at night",
        "category": None,
    }


def test_key_value_sets_any_parameter() -> None:
    params = parse_args(SUGGEST, split_line('"Dark mode" category=ui "at night"'))
    assert params == {"title": "Dark mode", "details": "at night", "category": "ui"}


def test_fillers_and_hash_ids() -> None:
    assert parse_args(MERGE, split_line("#5 into 3")) == {"duplicate": 5, "original": 3}


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("", "error.args.missing"),
        ("ab", "error.param.too_short"),
        ('"' + "x" * 121 + '"', "error.param.too_long"),
        ('"unclosed', "error.args.quotes"),
    ],
)
def test_bad_text_input(line: str, key: str) -> None:
    with pytest.raises(UserError) as err:
        parse_args(SUGGEST, split_line(line))
    assert err.value.key == key


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("five 3", "error.param.int"),
        ("0 3", "error.param.min_value"),
        ("1 2 3", "error.args.extra"),
    ],
)
def test_bad_ids(line: str, key: str) -> None:
    with pytest.raises(UserError) as err:
        parse_args(MERGE, split_line(line))
    assert err.value.key == key


def test_typed_conversions() -> None:
    spec = CommandSpec(
        "x",
        "h",
        _noop,
        (
            Param("on", ParamType.BOOL),
            Param("mode", ParamType.CHOICE, choices=("flash", "lottery")),
            Param("window", ParamType.DURATION),
            Param("at", ParamType.DATETIME),
        ),
    )
    params = parse_args(
        spec, split_line("off Lottery 1h30m 2026-12-01T20:00"), tz=ZoneInfo("Asia/Shanghai")
    )
    assert params["on"] is False and params["mode"] == "lottery"
    assert params["window"] == timedelta(hours=1, minutes=30)
    assert params["at"] == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    for bad, key in [
        ("maybe flash 1h 2026-12-01", "error.param.bool"),
        ("on raffle 1h 2026-12-01", "error.param.choice"),
        ("on flash soon 2026-12-01", "error.param.duration"),
        ("on flash 1h tomorrow", "error.param.datetime"),
    ]:
        with pytest.raises(UserError) as err:
            parse_args(spec, split_line(bad))
        assert err.value.key == key


def test_registry_resolves_subcommands_and_refuses_twins() -> None:
    reg = CommandRegistry()
    reg.add(CommandSpec("drop create", "h", _noop))
    reg.add(CommandSpec("top", "h", _noop))
    spec, rest = reg.resolve(["drop", "create", "Phone"])
    assert spec is not None and spec.name == "drop create" and rest == ["Phone"]
    spec, rest = reg.resolve(["TOP", "votes"])
    assert spec is not None and spec.name == "top" and rest == ["votes"]
    with pytest.raises(ValueError):
        reg.add(CommandSpec("top", "h", _noop))
    with pytest.raises(ValueError):
        reg.add(CommandSpec("drop", "h", _noop))
