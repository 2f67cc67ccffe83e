"""Every message exists in English and Simplified Chinese, with the same placeholders."""

from __future__ import annotations

import string

from bot.core.app import App
from bot.core.i18n import normalize_locale


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


async def test_catalogs_complete_and_consistent(app: App) -> None:
    tr = app.translator
    en, zh = tr.keys("en"), tr.keys("zh_CN")
    assert en, "no catalog loaded"
    assert en - zh == set(), f"missing in zh_CN: {sorted(en - zh)}"
    assert zh - en == set(), f"missing in en: {sorted(zh - en)}"
    for key in en:
        assert _fields(tr.all(key)["en"]) == _fields(tr.all(key)["zh_CN"]), key


# The Chinese word for a suggestion is 需求, the forum's "需求" board, everywhere; 建议 ("to
# suggest") is only the name of the /suggest command.
SUGGEST_COMMAND = "discord.name.suggest"


async def test_chinese_calls_a_suggestion_one_thing(app: App) -> None:
    tr = app.translator
    mixed = [k for k in tr.keys("zh_CN") if k != SUGGEST_COMMAND and "建议" in tr.all(k)["zh_CN"]]
    assert mixed == []
    assert sum("需求" in tr.all(k)["zh_CN"] for k in tr.keys("zh_CN")) > 50


async def test_every_declared_key_exists(app: App) -> None:
    tr = app.translator
    for spec in app.commands.all():
        assert tr.has(spec.help_key), spec.name
        for p in spec.params:
            assert not p.help_key or tr.has(p.help_key), f"{spec.name}.{p.name}"
    for setting in app.community_settings.specs():
        assert tr.has(setting.help_key), setting.key


def test_locale_normalization() -> None:
    assert normalize_locale("zh-CN") == "zh_CN"
    assert normalize_locale("zh-hans") == "zh_CN"
    assert normalize_locale("en-US") == "en"
    assert normalize_locale("fr") is None
    assert normalize_locale(None) is None


async def test_fallback_to_english_and_key(app: App) -> None:
    tr = app.translator
    assert tr("fr", "role.owner") == "owner"
    assert tr("zh_CN", "role.owner") == "群主"
    assert tr("en", "no.such.key") == "no.such.key"


async def test_locale_of_a_label_shown_earlier(app: App) -> None:
    tr = app.translator
    assert tr.locale_of("suggest.button.vote", "👍 +1 #12 (7)", id=12) == "en"
    assert tr.locale_of("suggest.button.vote", "👍 +1 #12（7）", id=12) == "zh_CN"
    assert tr.locale_of("suggest.button.vote", "👍 +1 #13 (7)", id=12) is None
    assert tr.locale_of("suggest.button.vote", "👍 +1 #12 instead", id=12) is None
    assert tr.locale_of("no.such.key", "anything") is None


async def test_traditional_chinese_is_the_simplified_catalog_as_taiwan_writes_it(
    app: App,
) -> None:
    """zh_TW has every message, with the same placeholders, in Taiwan's characters and words,
    and the words OpenCC reads in another sense come out as the messages mean them."""
    from bot.core.chinese import taiwan

    tr = app.translator
    assert tr.keys("zh_TW") == tr.keys("zh_CN")
    for key in tr.keys("zh_CN"):
        assert _fields(tr.all(key)["zh_TW"]) == _fields(tr.all(key)["zh_CN"]), key
    assert tr("zh_TW", "role.owner") == taiwan(tr("zh_CN", "role.owner"))
    assert "設定" in tr("zh_TW", "help.settings") and "设置" in tr("zh_CN", "help.settings")
    assert tr("zh_TW", "help.approve") == "通過待審需求並發布（管理員）"  # not 併發, concurrency
    assert "關聯代碼" in tr("zh_TW", "link.code", code="X", minutes=10)  # not 程式碼
    assert "最多只能" in tr("zh_TW", "tier.too_many", max=5)  # not 隻, the measure word
    # A message a conversion cannot make comes from the package's own zh_TW.po.
    assert tr("zh_TW", "language.set") == "語言已設為：繁體中文。"


def test_traditional_chinese_locales_are_told_apart() -> None:
    for code in ("zh-TW", "zh_TW", "zh-HK", "zh-Hant", "zh-Hant-TW", "zh-MO"):
        assert normalize_locale(code) == "zh_TW", code
    for code in ("zh", "zh-CN", "zh-Hans", "zh-SG"):
        assert normalize_locale(code) == "zh_CN", code
