"""A start fills an index in one step (`add_many`, `put_many`): the result must be the index
that adding the same documents one at a time would have built."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cogs.suggestions.similarity import make_index
from cogs.suggestions.similarity.dedup_index import DedupIndex
from cogs.suggestions.similarity.hybrid import HybridIndex
from cogs.suggestions.similarity.store import TermStore
from cogs.suggestions.similarity.text import (
    _CJK_START,
    _STOP,
    _TOKEN,
    LEAD_TOKENS,
    LEAD_WEIGHT,
    normalize,
    stem,
    terms,
)

texts = st.text(
    alphabet=st.sampled_from(list("abc xyz dark mode 夜间模式导出聊天记录？!,.12\n ＡＢ什麼如何")),
    max_size=60,
)
docs = st.lists(st.tuples(st.integers(0, 30), texts), max_size=25)


def reference_terms(text: str) -> dict[str, float]:
    """`terms` written token by token, as the lead rule reads: the first line of a text with
    several, else its first `LEAD_TOKENS` words (a Chinese character counting half)."""
    lead_end = text.find("\n") if "\n" in text.strip() else -1
    norm = normalize(text)
    lead_chars = len(normalize(text[:lead_end])) if lead_end > 0 else -1
    out: defaultdict[str, float] = defaultdict(float)
    position = 0.0
    for match in _TOKEN.finditer(norm):
        token = match.group()
        if lead_chars >= 0:
            weight = LEAD_WEIGHT if match.start() < lead_chars else 1.0
        else:
            weight = LEAD_WEIGHT if position < LEAD_TOKENS else 1.0
        if token[0] < _CJK_START:
            position += 1
            if token not in _STOP:
                out[stem(token)] += weight
            continue
        position += len(token) / 2
        for char in token:
            out[char] += weight
        for i in range(len(token) - 1):
            out[token[i : i + 2]] += weight
    return out


@settings(max_examples=200, deadline=None)
@given(text=texts)
def test_terms_follow_the_lead_rule(text: str) -> None:
    assert list(terms(text).items()) == list(reference_terms(text).items())


def _state(store: TermStore) -> tuple[object, ...]:
    live = sorted(store.doc_slot.items())
    return (
        store.vocab,
        list(store._df),
        list(store._kind_weight),
        [list(p) for p in store._post_slot],
        [list(p) for p in store._post_impact],
        list(store._slot_doc),
        list(store._slot_len),
        live,
        store.total_len,
        [None if t is None else t.tolist() for t in store.slot_terms],
        [None if t is None else t.tolist() for t in store.slot_tf],
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=docs, second=docs, removed=st.lists(st.integers(0, 30), max_size=5))
def test_add_many_builds_what_adding_one_at_a_time_builds(
    first: list[tuple[int, str]], second: list[tuple[int, str]], removed: list[int]
) -> None:
    one, bulk = DedupIndex(), DedupIndex()
    for doc_id, text in first:
        one.add(doc_id, text)
    bulk.add_many(first)
    for doc_id in removed:
        one.remove(doc_id)
        bulk.remove(doc_id)
    for doc_id, text in second:  # re-adds of indexed documents among them
        one.add(doc_id, text)
    bulk.add_many(second)
    assert _state(one._store) == _state(bulk._store)
    for query in ["dark mode", "夜间模式", "导出记录 abc"]:
        assert one.query(query, k=10) == bulk.query(query, k=10)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=docs, has_vector=st.lists(st.booleans(), min_size=25, max_size=25))
def test_put_many_indexes_what_put_does(
    tiny_model: Path, batch: list[tuple[int, str]], has_vector: list[bool]
) -> None:
    one, bulk = make_index(tiny_model, 0.5), make_index(tiny_model, 0.5)
    assert isinstance(one, HybridIndex) and isinstance(bulk, HybridIndex)
    flags = has_vector[: len(batch)]
    encoded = one.embedder.encode([text for _, text in batch]) if batch else np.zeros((0, 1))
    for (doc_id, text), flag, vector in zip(batch, flags, encoded, strict=True):
        one.put(doc_id, text, vector if flag else None)
    rows = np.array([v for v, flag in zip(encoded, flags, strict=True) if flag], np.float32)
    bulk.put_many(batch, rows if len(rows) else None, flags)
    assert sorted(one.missing()) == sorted(bulk.missing())
    assert _state(one.words._store) == _state(bulk.words._store)
    for doc_id, _ in batch:
        a, b = one._vectors.vector(doc_id), bulk._vectors.vector(doc_id)
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert np.array_equal(a, b)
    for query in ["dark mode", "夜间模式", "crash"]:
        assert one.query(query, k=10) == bulk.query(query, k=10)
