"""A small lexical matcher: words for Latin text, character bigrams for Chinese, TF-IDF cosine."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_STOP_WORDS = """
a an the to of in on for and or is are be it i my me we our you your can could would
should please add make have has with that this there when what how do does not
"""
_STOP = frozenset(_STOP_WORDS.split())


def tokens(text: str) -> list[str]:
    low = text.lower()
    out = [w for w in _WORD.findall(low) if w not in _STOP]
    for run in _CJK.findall(low):
        out.extend(run)  # unigrams
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


class LexicalIndex:
    def __init__(self) -> None:
        self._docs: dict[int, Counter[str]] = {}
        self._df: Counter[str] = Counter()
        self._postings: dict[str, set[int]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._docs)

    def add(self, doc_id: int, text: str) -> None:
        self.remove(doc_id)
        tf = Counter(tokens(text))
        self._docs[doc_id] = tf
        for term in tf:
            self._df[term] += 1
            self._postings[term].add(doc_id)

    def add_many(self, docs: Iterable[tuple[int, str]]) -> None:
        for doc_id, text in docs:
            self.add(doc_id, text)

    def remove(self, doc_id: int) -> None:
        tf = self._docs.pop(doc_id, None)
        if tf is None:
            return
        for term in tf:
            self._df[term] -= 1
            self._postings[term].discard(doc_id)
            if self._df[term] <= 0:
                del self._df[term]
                del self._postings[term]

    def _weights(self, tf: Counter[str]) -> dict[str, float]:
        n = len(self._docs) + 1
        return {
            t: (1 + math.log(c)) * math.log(1 + n / (1 + self._df.get(t, 0))) for t, c in tf.items()
        }

    def query(self, text: str, k: int = 5, exclude: Iterable[int] = ()) -> list[tuple[int, float]]:
        q = self._weights(Counter(tokens(text)))
        if not q:
            return []
        skip = set(exclude)
        qnorm = math.sqrt(sum(w * w for w in q.values()))
        candidates: set[int] = set()
        for term in q:
            candidates |= self._postings.get(term, set())
        scored = []
        for doc_id in candidates - skip:
            d = self._weights(self._docs[doc_id])
            dot = sum(w * d.get(t, 0.0) for t, w in q.items())
            dnorm = math.sqrt(sum(w * w for w in d.values()))
            if dot > 0:
                scored.append((doc_id, dot / (qnorm * dnorm)))
        scored.sort(key=lambda x: (-x[1], x[0]))
        return scored[:k]
