"""The word filter: a post containing one of the community's words waits for review.

Matching ignores case and width (NFKC, case-folded), the invisible characters someone might
slip between letters, and the script of Chinese: a word and a text are compared in simplified
characters, so a word given in either script is found in both ("賭博" holds back "赌博" and the
reverse). Words are kept as the admin typed them. A word of Latin letters and digits matches
whole words only ("ass" does not hold back "class"); any other word (Chinese, which has no
spaces) matches anywhere in the text, also with spaces or punctuation put between its
characters.
"""

from __future__ import annotations

import re
import unicodedata

from bot.core.chinese import simplified
from bot.core.commands import is_blank, visible_length

MAX_WORDS = 200
_LATIN = re.compile(r"^[0-9a-z][0-9a-z' -]*$")


def normalize(text: str) -> str:
    """Case-folded, width-folded, without invisible characters inside."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in folded if not (is_blank(c) and not c.isspace()))


def filter_word(raw: str) -> str | None:
    """A word as the filter stores it; None when nothing visible is left."""
    word = " ".join(normalize(raw).split())
    return word if visible_length(word) else None


def _squeezed(text: str) -> str:
    """Only letters and digits: "傻 ·逼" → "傻逼"."""
    return "".join(c for c in text if unicodedata.category(c)[0] in "LN")


def first_match(words: list[str], text: str) -> str | None:
    """The first of `words` found in `text`."""
    plain = simplified(normalize(text))
    squeezed = None
    for word in words:
        if _LATIN.match(word):
            if re.search(rf"(?<![0-9a-z]){re.escape(word)}(?![0-9a-z])", plain):
                return word
            continue
        same = simplified(word)
        if same in plain:
            return word
        if squeezed is None:
            squeezed = _squeezed(plain)
        bare = _squeezed(same)
        if bare and bare in squeezed:
            return word
    return None
