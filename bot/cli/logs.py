"""Where log records go: standard error, as readable lines (`log_format = "text"`) or as one
JSON object per line (`"json"`: `time` in UTC ISO 8601, `level`, `logger`, `message`, and
`exception` with the traceback when there is one, plus any `extra` fields), for a collector
such as Loki, Elasticsearch or a cloud's log service."""

from __future__ import annotations

import logging
import sys
from typing import IO

from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "{levelname}{name}{message}",
        style="{",
        timestamp="time",
        rename_fields={
            "levelname": "level",
            "name": "logger",
            "exc_info": "exception",
            "stack_info": "stack",
        },
        json_ensure_ascii=False,
    )


def formatter(log_format: str) -> logging.Formatter:
    return json_formatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure(level: str, log_format: str, stream: IO[str] | None = None) -> None:
    """Send the root logger's records to `stream` (standard error) in `log_format`, unless
    logging was configured already (as `logging.basicConfig` does)."""
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(formatter(log_format))
    logging.basicConfig(level=level, handlers=[handler])
