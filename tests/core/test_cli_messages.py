"""The command line's messages: both catalogs complete, in the operator's language."""

from __future__ import annotations

import sqlite3
import string
from pathlib import Path

import pytest

from bot.cli import main
from bot.cli.messages import SCHEMA_MISMATCH, operator_locale, text
from bot.core.i18n import Translator


def fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_catalogs_have_the_same_messages_and_placeholders() -> None:
    tr = Translator()
    tr.load_package("bot.cli")
    en, zh = tr.keys("en"), tr.keys("zh_CN")
    assert en and en == zh
    for key in en:
        texts = tr.all(key)
        assert fields(texts["en"]) == fields(texts["zh_CN"]), key
        assert "\n" not in texts["en"] and "\n" not in texts["zh_CN"], key  # one line each


@pytest.mark.parametrize(
    ("env", "default", "expected"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "en", "zh_CN"),
        ({"LANG": "en_US.UTF-8"}, "zh_CN", "en"),
        ({"LANG": "C.UTF-8"}, "zh_CN", "zh_CN"),  # a language fanloop does not speak: the default
        ({}, "zh_CN", "zh_CN"),
        ({"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en", "en"),  # LC_ALL decides
        ({"LC_MESSAGES": "zh_CN", "LANG": "en_US"}, "en", "zh_CN"),
    ],
)
def test_the_operators_locale(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], default: str, expected: str
) -> None:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert operator_locale(default) == expected


def test_a_message_in_each_language(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert text("cli.migrate.current") == "数据库已是最新"
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert text("cli.migrate.current") == "database is up to date"


def test_every_command_refuses_a_newer_schema_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not only run, console and migrate: any command that opens the App (here
    `recompute-points`) stops with the same line and exit status."""
    db = tmp_path / "fanloop.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
    conn.execute("INSERT INTO alembic_version VALUES ('9999_from_a_later_release')")
    conn.commit()
    conn.close()
    for var in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.setenv("FANLOOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    assert main(["recompute-points", "--db", f"sqlite:///{db}"]) == SCHEMA_MISMATCH
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("fanloop: 数据库已由更新版本的 fanloop 迁移") and "9999_" in line
