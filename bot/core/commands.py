"""Commands declared once: name, localized help, typed parameters with limits, role, handler.

Adapters turn the registry into Discord slash commands, Telegram /commands and console lines;
`parse_args` turns a line of text into typed parameters for the text platforms. A parameter may
carry an `Autocomplete`: platforms that suggest values while a member types (Discord) call it.
"""

from __future__ import annotations

import difflib
import enum
import io
import shlex
import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core.clock import parse_duration
from bot.core.errors import Term, UserError

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


# Characters that show nothing: format characters (zero-width space and joiners, direction marks,
# the byte-order mark), separators and controls, combining marks, and the letters fonts draw blank
# (Hangul fillers, the braille blank). A text is as long as its other characters.
_BLANK_CATEGORIES = ("Cf", "Cc", "Zs", "Zl", "Zp", "Mn", "Me", "Co", "Cn")
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")


def is_blank(char: str) -> bool:
    return (
        char in _BLANK_LETTERS or char.isspace() or unicodedata.category(char) in _BLANK_CATEGORIES
    )


def visible_length(text: str) -> int:
    """How many characters of `text` show something."""
    return sum(1 for char in text if not is_blank(char))


def strip_blank(text: str) -> str:
    """`text` without the invisible characters at either end."""
    start, end = 0, len(text)
    while start < end and is_blank(text[start]):
        start += 1
    while end > start and is_blank(text[end - 1]):
        end -= 1
    return text[start:end]


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
    # Other words for a choice, typed in lower case ("zh" and "中文" for "zh_cn").
    aliases: tuple[tuple[str, str], ...] = ()
    default: Any = None
    # Text-only platforms: this parameter takes the rest of the line when it is the last one given.
    rest: bool = False
    # Text-only platforms: given without quotes, this parameter takes the words up to the end of
    # the line or to a `|` (a title: "/suggest Dark mode for the settings page").
    line: bool = False
    # Text-only platforms: given only as `key=value`, never by position (options before free
    # text, so that the text is never read as one of them).
    keyword: bool = False
    # Values to offer while the member types (e.g. suggestions matching their words); the
    # parameter still takes any value its type accepts.
    autocomplete: Autocomplete | None = None
    # Asked in the command's form (a Discord modal, a Telegram form). A parameter that the
    # command asks for in a later step of its own (a category picked from a list) is not.
    in_form: bool = True


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
    # An admin or owner command is recorded in the audit log when it succeeds; False for one
    # that only reads (bot/core/audit.py).
    audit: bool = True
    # A command anyone may run that is audited when an admin or owner runs it (an admin's
    # correction of someone's suggestion with /edit or /delete).
    audit_admins: bool = False
    # The arguments as the audit log keeps them: (context, params) -> params, for a command
    # whose arguments may hold what not every reader of the log should see (a webhook token).
    audit_params: Callable[[Any, dict[str, Any]], dict[str, Any]] | None = None

    @property
    def group(self) -> str | None:
        return self.name.split(" ", 1)[0] if " " in self.name else None

    @property
    def leaf(self) -> str:
        return self.name.rsplit(" ", 1)[-1]

    @property
    def form_params(self) -> tuple[Param, ...]:
        """The parameters a form asks for, in order."""
        return tuple(p for p in self.params if p.in_form)

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


# The separator between a title given without quotes and the words after it on the same line.
LINE_SEPARATOR = "|"


class Token(str):
    """A word of a command line, knowing whether it was quoted and whether a new line (or the
    line separator) comes before it."""

    quoted: bool = False
    breaks: bool = False
    separates: bool = False  # the line separator, given without quotes


def split_line(text: str) -> list[str]:
    """Split a command line into tokens; quoted strings keep their spaces. The tokens are
    `Token`s: they remember quotes and line breaks, for parameters that take a line."""
    stream = io.StringIO(text)
    lexer = shlex.shlex(stream, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    out: list[str] = []
    start, broken = 0, False
    try:
        while (word := lexer.get_token()) is not None:
            end = stream.tell()
            raw = text[start:end]
            start = end
            body = raw.lstrip()
            token = Token(word)
            token.quoted = body[:1] in ("'", '"')
            token.breaks = broken or "\n" in raw[: len(raw) - len(body)]
            # The lexer reads the one character after a word: a new line there breaks the next.
            broken = raw.endswith("\n") and bool(word)
            token.separates = not token.quoted and word == LINE_SEPARATOR
            out.append(token)
    except ValueError:
        raise UserError("error.args.quotes") from None
    return out


def _quoted(token: str) -> bool:
    return getattr(token, "quoted", True)


def _breaks(token: str) -> bool:
    return getattr(token, "breaks", False)


def _separates(token: str) -> bool:
    return getattr(token, "separates", False)


def _take_line(positional: list[str]) -> str:
    """The words of an unquoted title: up to a new line or the separator (which is dropped)."""
    words = [positional.pop(0)]
    while positional and not _breaks(positional[0]) and not _separates(positional[0]):
        words.append(positional.pop(0))
    if positional and _separates(positional[0]):
        positional.pop(0)
    return " ".join(words)


def _fits(param: Param, token: str) -> bool:
    try:
        convert(param, token)
    except UserError:
        return False
    return True


def _check_key(spec: CommandSpec, token: str) -> None:
    """A `key=value` whose key is a misspelt parameter name is refused, not taken as text."""
    key, sep, _ = token.partition("=")
    if not sep or _quoted(token) or not key.isidentifier() or not key.isascii():
        return
    near = difflib.get_close_matches(key.lower(), [p.name for p in spec.params], n=1, cutoff=0.75)
    if near:
        raise UserError("error.args.unknown_key", key=key, near=near[0])


def _join(tokens: list[str]) -> str:
    """Words back into text, with the line breaks they had."""
    parts: list[str] = []
    for i, token in enumerate(tokens):
        if i:
            parts.append("\n" if _breaks(token) else " ")
        parts.append(token)
    return "".join(parts)


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
        low = dict(param.aliases).get(low, low)
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
    text = strip_blank(str(raw))
    if param.min is not None and visible_length(text) < param.min:
        if param.min == 1:
            raise UserError("error.param.empty", name=param.name)
        raise UserError("error.param.too_short", name=param.name, min=param.min)
    if param.max is not None and len(text) > param.max:
        raise UserError("error.param.too_long", name=param.name, max=param.max, length=len(text))
    return text


def parse_args(spec: CommandSpec, tokens: Iterable[str], *, tz: Any = UTC) -> dict[str, Any]:
    """Typed parameters from text tokens: positional in order, `key=value` for any of them.

    A `keyword` parameter is given only as `key=value`. Before a parameter that takes the rest of
    the line, an optional choice takes a word only when it is one of its choices: free text is
    never read as an option. A `line` parameter given without quotes takes the words up to the
    end of the line or to `|`."""
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
            _check_key(spec, tok)
            positional.append(tok)
    values: dict[str, Any] = {}
    free = [p for p in spec.params if p.name not in named and not p.keyword]
    for i, param in enumerate(free):
        if not positional:
            break
        later = free[i + 1 :]
        if param.rest and param.type is ParamType.TEXT and not any(p.required for p in later):
            # The rest of the line; later optional parameters are then given as key=value.
            named[param.name] = _join(positional)
            positional = []
        elif not param.required and param.type is ParamType.CHOICE and any(p.rest for p in later):
            if _fits(param, positional[0]):
                named[param.name] = positional.pop(0)
        elif param.line and param.type is ParamType.TEXT and _separates(positional[0]):
            if param.required:
                named[param.name] = positional.pop(0)  # refused as too short, as before
            else:
                positional.pop(0)  # `/edit 12 | new details`: an optional title left out
        elif param.line and param.type is ParamType.TEXT and not _quoted(positional[0]):
            named[param.name] = _take_line(positional)
        elif param.line and param.type is ParamType.TEXT:
            named[param.name] = positional.pop(0)  # quoted: one word, then the separator
            if positional and _separates(positional[0]):
                positional.pop(0)
        else:
            named[param.name] = positional.pop(0)
    if positional:
        raise UserError("error.args.extra", extra=" ".join(positional))
    for param in spec.params:
        try:
            if param.name in named:
                values[param.name] = convert(param, named[param.name], tz=tz)
            elif param.required:
                raise UserError("error.args.missing", name=param.name)
            else:
                values[param.name] = param.default
        except UserError as exc:
            if exc.params.get("name") == param.name:
                exc.params["name"] = Term(param.name, label_key(spec, param))
            raise
    return values


def label_key(spec: CommandSpec, param: Param) -> str:
    """The catalog key of a parameter's name in the member's language (Discord's localized
    option name, a form field's label, the name in /help and in error messages)."""
    return f"discord.option.{spec.name.replace(' ', '.')}.{param.name}"
