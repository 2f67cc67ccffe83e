"""Chinese in one script, for matching: a fan in Taiwan or Hong Kong writes
traditional characters, one in the mainland simplified ones, and a search, a duplicate check or
a word filter should treat "設定頁面" and "设置页面" alike. OpenCC (the conversion library of
the field) does the reading.

- `simplified`: traditional characters as simplified ones (OpenCC's `t2s`: characters, and a
  short list of phrases whose characters simplify by context), for the word filter: a word
  converts alone as it does within a text, but for those few phrases.
- `mainland`: that, and Taiwan's words as the mainland's ("軟體" as "软件", "設定" as "设置",
  OpenCC's `tw2sp`), for duplicate search, where the same request in other words is the point.

And one the other way, for display: `taiwan`, simplified Chinese as Taiwan writes it
(traditional characters and Taiwan's words, OpenCC's `s2twp`), which makes the traditional
catalog of fanloop's messages from the simplified one (`bot.core.i18n`).

Both leave a text with no traditional character as it is: Taiwan's words read in the mainland's
own text would rewrite it ("程序", a program, is Taiwan's word for a process; "么" a variant of
"幺").
"""

from __future__ import annotations

import re
from functools import lru_cache

import opencc

#: A Chinese character (the CJK unified ideographs, extension A and the compatibility block).
CHINESE_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def simplified(text: str) -> str:
    """`text` with its traditional characters simplified."""
    if not CHINESE_CHAR.search(text):
        return text
    return _opencc("t2s").convert(text)


def mainland(text: str) -> str:
    """`text` with its traditional characters simplified and, when it has any, Taiwan's words
    replaced by the mainland's."""
    to_simplified = _opencc("t2s")
    if not CHINESE_CHAR.search(text) or to_simplified.convert(text) == text:
        return text
    # Taiwan's tables leave a few variants they make (麼 as 麽) for the last step.
    return to_simplified.convert(_opencc("tw2sp").convert(text))


def taiwan(text: str) -> str:
    """`text` in traditional characters and Taiwan's words."""
    if not CHINESE_CHAR.search(text):
        return text
    return _opencc("s2twp").convert(text)


@lru_cache(maxsize=4)
def _opencc(config: str) -> opencc.OpenCC:
    # A converter only reads its dictionaries: one serves every thread.
    return opencc.OpenCC(config)
