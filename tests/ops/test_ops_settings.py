"""The operations settings (metrics_port, metrics_host, log_format) and the JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import socket
from pathlib import Path

import pytest

from bot.cli import logs, main
from config.settings import ConfigError, load_settings


def test_defaults_serve_nothing_and_log_text() -> None:
    settings = load_settings(None)
    assert settings.metrics_port == 0
    assert settings.metrics_host == "127.0.0.1"
    assert settings.log_format == "text"


def test_environment_sets_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANLOOP_METRICS_PORT", "9464")
    monkeypatch.setenv("FANLOOP_METRICS_HOST", "0.0.0.0")
    monkeypatch.setenv("FANLOOP_LOG_FORMAT", "json")
    settings = load_settings(None)
    assert (settings.metrics_port, settings.metrics_host, settings.log_format) == (
        9464,
        "0.0.0.0",
        "json",
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FANLOOP_METRICS_PORT", "70000"),
        ("FANLOOP_METRICS_PORT", "-1"),
        ("FANLOOP_METRICS_HOST", "http://0.0.0.0"),
        ("FANLOOP_METRICS_HOST", "[::1]"),
        ("FANLOOP_METRICS_HOST", " "),
        ("FANLOOP_LOG_FORMAT", "xml"),
    ],
)
def test_bad_values_are_named(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    key = variable.removeprefix("FANLOOP_").lower()
    with pytest.raises(ConfigError, match=key):
        load_settings(None)


def test_json_lines_parse_with_time_level_logger_message_and_exception() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.formatter("json"))
    log = logging.getLogger("fanloop.test.json")
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.INFO)
    try:
        log.info("voted for #%d: %s", 12, "深色模式\nsecond line")
        try:
            raise ValueError("no such drop")
        except ValueError:
            log.exception("claim failed")
    finally:
        log.removeHandler(handler)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2  # one object per line, whatever the message holds
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == "voted for #12: 深色模式\nsecond line"
    assert (first["level"], first["logger"]) == ("INFO", "fanloop.test.json")
    assert first["time"].endswith("+00:00")  # ISO 8601, UTC
    assert "exception" not in first
    assert second["level"] == "ERROR"
    assert "Traceback" in second["exception"] and "ValueError: no such drop" in second["exception"]


def test_a_metrics_port_in_use_stops_start_up_with_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("FANLOOP_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("FANLOOP_TELEGRAM_TOKEN", "7000001:TEST-token")
        monkeypatch.setenv("FANLOOP_TELEGRAM_BASE_URL", "http://127.0.0.1:9/bot")
        monkeypatch.setenv("FANLOOP_METRICS_PORT", str(port))
        assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert f"metrics_port: cannot listen on 127.0.0.1:{port}" in err
