"""Commands declared once, parsed from text with clear errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.commands import (
    EARLIEST,
    INT_MAX,
    INT_MIN,
    LONGEST,
    CommandRegistry,
    CommandSpec,
    Param,
    ParamType,
    convert,
    int_range,
    parse_args,
    parse_int,
    split_line,
)
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


@pytest.mark.parametrize(
    ("line", "key", "limit"),
    [
        (f"{2**31} 3", "error.param.max_value", {"max": INT_MAX}),
        (f"{2**63} 3", "error.param.max_value", {"max": INT_MAX}),
        (f"#{10**40} 3", "error.param.max_value", {"max": INT_MAX}),
        (f"{-(2**63)} 3", "error.param.min_value", {"min": 1}),
        ("1" * 5000 + " 3", "error.param.max_value", {"max": INT_MAX}),
        ("-" + "1" * 5000 + " 3", "error.param.min_value", {"min": 1}),
        ("1e30 3", "error.param.int", {}),
    ],
)
def test_ids_beyond_the_stored_range(line: str, key: str, limit: dict[str, int]) -> None:
    """An id the database's integer cannot hold is refused with the range, not sent on."""
    with pytest.raises(UserError) as err:
        parse_args(MERGE, split_line(line))
    assert err.value.key == key
    assert limit.items() <= err.value.params.items()
    assert parse_args(MERGE, split_line(f"{INT_MAX} 3"))["duplicate"] == INT_MAX


def test_integer_limits_default_to_the_stored_range() -> None:
    free = Param("n", ParamType.INT)
    own = Param("n", ParamType.INT, min=-5, max=10**12)  # wider than the database: clamped
    assert int_range(free) == (INT_MIN, INT_MAX) == (-(2**31), 2**31 - 1)
    assert int_range(own) == (-5, INT_MAX)
    assert convert(free, INT_MIN) == INT_MIN
    # Typed values (Discord's integer options) are held to the same range.
    for param, raw, key in [
        (free, INT_MAX + 1, "error.param.max_value"),
        (free, INT_MIN - 1, "error.param.min_value"),
        (own, 2**53, "error.param.max_value"),
        (own, -6, "error.param.min_value"),
        (free, True, "error.param.int"),
    ]:
        with pytest.raises(UserError) as err:
            convert(param, raw)
        assert err.value.key == key


def test_parse_int_reads_ids_that_fit() -> None:
    assert parse_int("#12") == 12 and parse_int(f" {INT_MAX} ") == INT_MAX
    for text in [str(INT_MAX + 1), str(2**63), "-1", "1.5", "²", "", "1" * 5000, "v1.2"]:
        assert parse_int(text) is None


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("9999-12-31T23:00", "error.param.datetime_range"),
        ("9999-12-31T23:59:59-12:00", "error.param.datetime_range"),  # past year 9999 in UTC
        ("0001-01-01T00:00", "error.param.datetime_range"),
        ("1999-12-31T23:59", "error.param.datetime_range"),
        ("2100-01-01T08:00", "error.param.datetime_range"),  # 00:00 UTC
    ],
)
def test_times_outside_the_planning_range(raw: str, key: str) -> None:
    with pytest.raises(UserError) as err:
        convert(Param("drop", ParamType.DATETIME), raw, tz=ZoneInfo("Asia/Shanghai"))
    assert err.value.key == key
    assert err.value.params == {"name": "drop", "earliest": "2000-01-01", "latest": "2100-01-01"}
    assert convert(Param("at", ParamType.DATETIME), "2099-12-31T23:59") == datetime(
        2099, 12, 31, 23, 59, tzinfo=UTC
    )
    assert convert(Param("at", ParamType.DATETIME), datetime(2000, 1, 1, tzinfo=UTC)) == EARLIEST


@pytest.mark.parametrize("raw", ["367d", "53w", "9999999999999999999d", "1" * 30 + "w"])
def test_durations_at_most_a_year(raw: str) -> None:
    with pytest.raises(UserError) as err:
        convert(Param("confirm", ParamType.DURATION), raw)
    assert err.value.key == "error.param.duration_range"
    assert err.value.params == {"name": "confirm", "days": 366}
    assert convert(Param("confirm", ParamType.DURATION), "366d") == LONGEST
    with pytest.raises(UserError):
        convert(Param("confirm", ParamType.DURATION), timedelta(days=-1))
