"""Turning a suggestion into weighted index terms, for Chinese, English and mixed text.

Latin-script text becomes lower-cased, lightly stemmed words without stop words. Chinese becomes
character unigrams (the strongest signal for short paraphrased questions, which reorder words)
plus character bigrams (kept at a lower weight by the scorer). A text written in traditional
characters is first read in simplified ones, Taiwan's words in the mainland's
(`bot.core.chinese.mainland`: "設定頁面支援深色模式" as "设置页面支持深色模式"), and a handful of
interchangeable question words are folded together, so "如何" and "怎么" or "什麼" and "什么"
match.

The lead of a text (its first line when there are several, otherwise its first few words) is the
title-like part and counts more than the body, like a title field in a search engine.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from functools import lru_cache

from bot.core.chinese import CHINESE_CHAR, mainland

#: Term kinds; the scorer weighs them differently (see `kind_of`).
WORD, UNIGRAM, BIGRAM = 0, 1, 2

LEAD_TOKENS = 8  # words (a Chinese character counts half) in the lead of a one-line text
LEAD_WEIGHT = 3.0

_TOKEN = re.compile(r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CJK_START = "\u3400"

_STOP_WORDS = """
a an the to of in on at for and or but is are was were be been being it its i my me we our
you your he she they them this that these those there here when what which who how why do
does did done not no can could would should will shall may might must have has had with
from by as if so than then just also about into out up down over any all some more most
other such only own same too very s t am im ive id dont doesnt didnt cant wont isnt arent
get got use using please pls thanks thank hi hello
"""
_STOP = frozenset(_STOP_WORDS.split())

# Interchangeable Chinese question words, folded before n-grams (after `mainland`).
_FOLD = (
    ("甚么", "什么"),
    ("啥", "什么"),
    ("如何", "怎么"),
    ("怎样", "怎么"),
    ("咋", "怎么"),
    ("为何", "为什么"),
    ("为啥", "为什么"),
    ("哪儿", "哪里"),
)
_FOLD_RE = re.compile("|".join(re.escape(a) for a, _ in _FOLD))
_FOLD_MAP = dict(_FOLD)

_SUFFIXES = (
    "ational", "ization", "ations", "ation", "ingly", "ments", "ment", "ness", "ings",
    "ing", "ies", "ied", "edly", "ed", "ers", "er", "ly", "es", "s",
)  # fmt: skip


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A light English suffix stripper: enough to match install/installed/installing."""
    if len(word) <= 4 or word[-1].isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, Chinese in simplified characters and the
    mainland's words, folded question words."""
    low = unicodedata.normalize("NFKC", text).lower()
    return _FOLD_RE.sub(lambda m: _FOLD_MAP[m.group()], mainland(low))


def kind_of(term: str) -> int:
    """Latin words, Chinese characters and Chinese bigrams never collide, so a term is its kind."""
    if term[0] < _CJK_START:
        return WORD
    return UNIGRAM if len(term) == 1 else BIGRAM


def terms(text: str) -> dict[str, float]:
    """Weighted term frequencies: lead terms count `LEAD_WEIGHT`, the rest 1."""
    out: defaultdict[str, float] = defaultdict(float)
    lead_end = text.find("\n") if "\n" in text.strip() else -1
    if lead_end > 0:
        # The first line is the lead. (Normalising never joins characters across a line end,
        # so the two parts are the normalised text cut where the line ends.)
        _add(_TOKEN.findall(normalize(text[:lead_end])), LEAD_WEIGHT, out)
        _add(_TOKEN.findall(normalize(text[lead_end:])), 1.0, out)
        return out
    tokens = _TOKEN.findall(normalize(text))
    cut = len(tokens)
    position = 0.0
    for i, token in enumerate(tokens):
        if position >= LEAD_TOKENS:
            cut = i
            break
        position += 1 if token[0] < _CJK_START else len(token) / 2
    _add(tokens[:cut], LEAD_WEIGHT, out)
    _add(tokens[cut:], 1.0, out)
    return out


def _add(tokens: list[str], weight: float, out: defaultdict[str, float]) -> None:
    """Add the terms of `tokens` to `out`, each occurrence counting `weight`."""
    stop, stem_of = _STOP, stem
    for token in tokens:
        if token[0] < _CJK_START:
            if token not in stop:
                out[stem_of(token)] += weight
            continue
        for char in token:
            out[char] += weight
        for pair in map(str.__add__, token, token[1:]):
            out[pair] += weight


#: `language()` values.
LATIN, CHINESE = 0, 1
#: Languages `language()` tells apart (Latin-script and other, Chinese).
LANGUAGES = 2
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def language(text: str) -> int:
    """`CHINESE` when the text has at least as many Chinese characters as Latin words (a
    character counts as a word), else `LATIN` (which also covers text with no letters)."""
    chinese = len(CHINESE_CHAR.findall(text))
    return CHINESE if chinese >= max(1, len(_LATIN_WORD.findall(text))) else LATIN
