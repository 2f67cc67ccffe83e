"""Commands declared once: name, localized help, typed parameters with limits, role, handler.

Adapters turn the registry into Discord slash commands, Telegram /commands and console lines;
`parse_args` turns a line of text into typed parameters for the text platforms. A parameter may
carry an `Autocomplete`: platforms that suggest values while a member types (Discord) call it.
"""

from __future__ import annotations

import enum
import shlex
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core.clock import parse_duration
from bot.core.errors import UserError

if TYPE_CHECKING:
    from bot.core.context import Context
    from bot.core.reply import Reply


# The range of an integer parameter that declares no limits of its own: a signed 32-bit integer,
# PostgreSQL's INTEGER, the type of every id and count column (SQLite's integers are wider). A
# larger number would overflow the database's integer, so it is refused before it gets there.
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1

# Times and durations members give. Times are refused before 2000 and from 2100 on: a time far out
# of the range the bot plans in would overflow the date arithmetic of every scheduler tick
# (features add their own rules: a drop is at most a few years ahead). The longest duration is a
# year, longer than any window or period the bot keeps.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
LONGEST = timedelta(days=366)


def int_range(param: Param) -> tuple[int, int]:
    """The values an integer parameter accepts: its own limits, within the stored range."""
    low = INT_MIN if param.min is None else max(param.min, INT_MIN)
    high = INT_MAX if param.max is None else min(param.max, INT_MAX)
    return low, high


def parse_int(text: str) -> int | None:
    """A whole number typed by a member ("12", "#12"), None when it is not one or does not fit
    the stored range."""
    text = text.strip().lstrip("#")
    if not text.isdecimal() or len(text) > 12:
        return None
    value = int(text)
    return value if value <= INT_MAX else None


def check_time(name: str, value: datetime) -> datetime:
    """A time a member gave, refused when it is outside the range the bot plans in."""
    if not EARLIEST <= value < LATEST:
        raise UserError(
            "error.param.datetime_range",
            name=name,
            earliest=EARLIEST.date().isoformat(),
            latest=LATEST.date().isoformat(),
        )
    return value


class Role(enum.IntEnum):
    FAN = 0
    ADMIN = 1
    OWNER = 2

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise UserError("error.role.unknown", value=text) from None


class ParamType(enum.Enum):
    TEXT = "text"
    INT = "int"
    BOOL = "bool"
    CHOICE = "choice"
    DURATION = "duration"
    DATETIME = "datetime"
    MEMBER = "member"  # a member's display name or platform mention


@dataclass(frozen=True)
class Choice:
    """One value an autocomplete offers: the label a member sees and the value it stands for."""

    label: str
    value: str


# (who asks and where, what they typed so far) -> at most a few dozen choices, best first.
Autocomplete = Callable[["Context", str], Awaitable[list[Choice]]]


@dataclass(frozen=True)
class Param:
    name: str
    type: ParamType = ParamType.TEXT
    help_key: str = ""
    required: bool = True
    min: int | None = None  # text: length; int: value
    max: int | None = None
    choices: tuple[str, ...] = ()
    default: Any = None
    # Text-only platforms: this parameter takes the rest of the line when it is the last one given.
    rest: bool = False
    # Values to offer while the member types (e.g. suggestions matching their words); the
    # parameter still takes any value its type accepts.
    autocomplete: Autocomplete | None = None


Handler = Callable[..., Awaitable["Reply"]]


@dataclass(frozen=True)
class CommandSpec:
    name: str  # "top", or "drop create" for a subcommand
    help_key: str
    handler: Handler
    params: tuple[Param, ...] = ()
    role: Role = Role.FAN
    # (calls, seconds) per member; None for the registry default.
    rate: tuple[int, float] | None = None
    # Words a text line may contain between parameters that carry no value ("/merge 5 into 3").
    fillers: tuple[str, ...] = ()
    # Platforms that cannot run this command (e.g. `/advance` outside a fake-clock console).
    platforms: tuple[str, ...] = ()
    # The parameters make a short form: Discord shows a modal, Telegram asks for them one by one
    # in a private chat when the command comes without arguments.
    form: bool = False

    @property
    def group(self) -> str | None:
        return self.name.split(" ", 1)[0] if " " in self.name else None

    @property
    def leaf(self) -> str:
        return self.name.rsplit(" ", 1)[-1]

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)


class CommandRegistry:
    def __init__(self) -> None:
        self._commands: dict[str, CommandSpec] = {}

    def add(self, spec: CommandSpec) -> CommandSpec:
        if spec.name in self._commands:
            raise ValueError(f"command {spec.name!r} declared twice")
        if spec.name in {s.group for s in self._commands.values()}:
            raise ValueError(f"{spec.name!r} is already a command group")
        self._commands[spec.name] = spec
        return spec

    def get(self, name: str) -> CommandSpec | None:
        return self._commands.get(name)

    def all(self) -> list[CommandSpec]:
        return sorted(self._commands.values(), key=lambda s: s.name)

    def groups(self) -> dict[str, list[CommandSpec]]:
        out: dict[str, list[CommandSpec]] = {}
        for spec in self.all():
            if spec.group:
                out.setdefault(spec.group, []).append(spec)
        return out

    def resolve(self, tokens: list[str]) -> tuple[CommandSpec | None, list[str]]:
        """Longest match of the leading tokens against command names ("drop create" first)."""
        if not tokens:
            return None, []
        head = tokens[0].lower()
        if len(tokens) > 1:
            spec = self._commands.get(f"{head} {tokens[1].lower()}")
            if spec:
                return spec, tokens[2:]
        return self._commands.get(head), tokens[1:]


def split_line(text: str) -> list[str]:
    """Split a command line into tokens; quoted strings keep their spaces."""
    try:
        lexer = shlex.shlex(text, posix=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        return list(lexer)
    except ValueError:
        raise UserError("error.args.quotes") from None


def convert(param: Param, raw: Any, *, tz: Any = UTC) -> Any:
    """Convert and check one raw value (a string from text, or a platform-typed value)."""
    t = param.type
    if t is ParamType.INT:
        if isinstance(raw, bool):
            raise UserError("error.param.int", name=param.name, value=str(raw))
        if isinstance(raw, int):
            value: Any = raw
        else:
            text = str(raw).strip().lstrip("#")
            try:
                value = int(text)
            except ValueError:
                if not text.lstrip("+-").isdecimal():
                    raise UserError("error.param.int", name=param.name, value=str(raw)) from None
                # More digits than Python reads at once: far out of range either way.
                value = INT_MIN - 1 if text.startswith("-") else INT_MAX + 1
        least, most = int_range(param)
        if value < least:
            raise UserError("error.param.min_value", name=param.name, min=least)
        if value > most:
            raise UserError("error.param.max_value", name=param.name, max=most)
        return value
    if t is ParamType.BOOL:
        if isinstance(raw, bool):
            return raw
        low = str(raw).strip().lower()
        if low in ("on", "yes", "true", "1", "开", "是"):
            return True
        if low in ("off", "no", "false", "0", "关", "否"):
            return False
        raise UserError("error.param.bool", name=param.name, value=str(raw))
    if t is ParamType.CHOICE:
        low = str(raw).strip().lower().replace("-", "_").replace(" ", "_")
        if low not in param.choices:
            raise UserError(
                "error.param.choice",
                name=param.name,
                value=str(raw),
                choices=", ".join(param.choices),
            )
        return low
    if t is ParamType.DURATION:
        if isinstance(raw, timedelta):
            duration = raw
        else:
            try:
                duration = parse_duration(str(raw))
            except ValueError:
                raise UserError("error.param.duration", name=param.name, value=str(raw)) from None
            except OverflowError:  # more days than a timedelta holds
                duration = timedelta.max
        if not timedelta(0) <= duration <= LONGEST:
            raise UserError("error.param.duration_range", name=param.name, days=LONGEST.days)
        return duration
    if t is ParamType.DATETIME:
        if isinstance(raw, datetime):
            value = raw
        else:
            try:
                value = datetime.fromisoformat(str(raw).strip().replace(" ", "T"))
            except ValueError:
                raise UserError("error.param.datetime", name=param.name, value=str(raw)) from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz)
        try:
            value = value.astimezone(UTC)
        except OverflowError:  # year 1 or 9999 shifted past the calendar's ends: out of range
            value = LATEST
        return check_time(param.name, value)
    text = str(raw).strip()
    if param.min is not None and len(text) < param.min:
        raise UserError("error.param.too_short", name=param.name, min=param.min)
    if param.max is not None and len(text) > param.max:
        raise UserError("error.param.too_long", name=param.name, max=param.max, length=len(text))
    return text


def parse_args(spec: CommandSpec, tokens: Iterable[str], *, tz: Any = UTC) -> dict[str, Any]:
    """Typed parameters from text tokens: positional in order, `key=value` for any of them."""
    names = {p.name for p in spec.params}
    named: dict[str, str] = {}
    positional: list[str] = []
    for tok in tokens:
        key, sep, value = tok.partition("=")
        if sep and key in names:
            named[key] = value
        elif tok.lower() in spec.fillers:
            continue
        else:
            positional.append(tok)
    values: dict[str, Any] = {}
    free = [p for p in spec.params if p.name not in named]
    for i, param in enumerate(free):
        if not positional:
            break
        later = free[i + 1 :]
        if param.rest and param.type is ParamType.TEXT and not any(p.required for p in later):
            # The rest of the line; later optional parameters are then given as key=value.
            named[param.name] = " ".join(positional)
            positional = []
        else:
            named[param.name] = positional.pop(0)
    if positional:
        raise UserError("error.args.extra", extra=" ".join(positional))
    for param in spec.params:
        if param.name in named:
            values[param.name] = convert(param, named[param.name], tz=tz)
        elif param.required:
            raise UserError("error.args.missing", name=param.name)
        else:
            values[param.name] = param.default
    return values
