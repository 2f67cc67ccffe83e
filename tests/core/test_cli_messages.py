"""The command line's messages: both catalogs complete, in the operator's language."""

from __future__ import annotations

import string

import pytest

from bot.cli.messages import operator_locale, text
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
