"""The command line's own messages, in the operator's language.

The language is the environment's (`LC_ALL`, `LC_MESSAGES`, `LANG`, as for any command-line
tool) when fanloop speaks it, else the configured `default_locale`. Catalogs:
`bot/cli/locales/{en,zh_CN}.po`.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from typing import Any

from bot.core.i18n import Translator, normalize_locale
from storage.migrate import SchemaBehind, SchemaError, SchemaNewer

#: Exit status of a process that refuses to start on a database whose schema is not its own.
SCHEMA_MISMATCH = 3


@cache
def _translator() -> Translator:
    tr = Translator()
    tr.load_package("bot.cli")
    return tr


def operator_locale(default: str = "en") -> str:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:  # the first one set decides, as in gettext
            return normalize_locale(value.split(".")[0]) or default
    return default


def text(key: str, default_locale: str = "en", **params: Any) -> str:
    return _translator()(operator_locale(default_locale), key, **params)


def say(key: str, default_locale: str = "en", *, error: bool = False, **params: Any) -> None:
    """Print one message, prefixed `fanloop: `, to standard output (or error)."""
    print(f"fanloop: {text(key, default_locale, **params)}", file=sys.stderr if error else None)


def schema_refusal(exc: SchemaError, default_locale: str = "en") -> int:
    """Say, on one line, why this process does not start on this database; its exit status."""
    if isinstance(exc, SchemaNewer):
        say("cli.schema.newer", default_locale, error=True, revisions=", ".join(exc.unknown))
    elif isinstance(exc, SchemaBehind):
        say("cli.schema.behind", default_locale, error=True, count=len(exc.pending))
    else:  # pragma: no cover - every SchemaError is one of the two
        raise exc
    return SCHEMA_MISMATCH
