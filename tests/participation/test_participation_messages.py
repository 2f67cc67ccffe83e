"""Every message the participation cog uses exists in English and Chinese, with the same
placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

from bot.core.app import App
from bot.core.i18n import LOCALES
from cogs.participation.periods import PERIODS
from cogs.participation.rules import KINDS

PACKAGE = Path(__file__).resolve().parents[2] / "cogs" / "participation"
KEY = re.compile(r'"((?:profile|leaderboard|tier|points|help|param|setting)\.[a-z_.]+)"')


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


async def test_every_key_used_exists_in_both_languages(app: App) -> None:
    used = set()
    for path in PACKAGE.glob("*.py"):
        used |= set(KEY.findall(path.read_text(encoding="utf-8")))
    used |= {f"points.kind.{k}" for k in KINDS} | {f"points.rule.{k}" for k in KINDS}
    used |= {f"setting.points_{k}" for k in KINDS} | {f"leaderboard.period.{p}" for p in PERIODS}
    assert len(used) > 60
    tr = app.translator
    for key in sorted(used):
        both = tr.all(key)
        assert set(both) == set(LOCALES), key
        assert _fields(both["en"]) == _fields(both["zh_CN"]), key
        assert re.search(r"[\u4e00-\u9fff]", both["zh_CN"]) or key in {
            "profile.title",
            "profile.recent",
            "profile.no_tier",
            "profile.suggestion",
        }, key
