"""The `semantic` extra: a local embedding model next to the lexical engine."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cogs.suggestions.similarity import LIKELY_DUPLICATE, RELATED, make_index
from cogs.suggestions.similarity.dedup_index import DedupIndex
from cogs.suggestions.similarity.hybrid import PARAPHRASE_FLOOR, HybridIndex
from cogs.suggestions.similarity.semantic import (
    MODEL_NAME_LENGTH,
    EnsembleEmbedder,
    ModelError,
    RoutedEmbedder,
    Vectors,
    load_embedder,
    normalize,
)
from cogs.suggestions.similarity.text import CHINESE, LATIN

DOCS = {
    1: "app crash at start",
    2: "dark mode",
    3: "login is slow",
    4: "闪退",
    5: "夜间模式",
}


def build(model: Path, weight: float = 0.5) -> HybridIndex:
    index = make_index(model, weight)
    assert isinstance(index, HybridIndex)
    index.add_many(DOCS.items())
    return index


def test_finds_paraphrases_that_share_no_word(tiny_model: Path) -> None:
    lexical = DedupIndex()
    lexical.add_many(DOCS.items())
    hybrid = build(tiny_model)
    # "freeze" and "crash", "night theme" and "dark mode", 卡死 and 闪退 share nothing lexical.
    for query, expected in [("freeze", 1), ("night theme", 2), ("signin laggy", 3), ("卡死", 4)]:
        assert expected not in [d for d, _ in lexical.query(query, k=5)], query
        hits = hybrid.query(query, k=3)
        assert hits[0][0] == expected, (query, hits)
        # Lexical 0 and cosine 1: the floor (0.55) of the meaning, above the blend (0.5 x 1).
        assert hits[0][1] == pytest.approx(PARAPHRASE_FLOOR, abs=1e-6)


@pytest.mark.parametrize(
    ("weight", "floor", "score"),
    [(0.35, 0.0, 0.35), (0.35, 0.55, 0.55), (0.8, 0.55, 0.8), (0.0, 0.55, None)],
)
def test_a_paraphrase_scores_the_floor_of_its_meaning_unless_the_blend_is_higher(
    tiny_model: Path, weight: float, floor: float, score: float | None
) -> None:
    index = make_index(tiny_model, weight, floor)
    index.add_many(DOCS.items())
    hits = dict(index.query("freeze", k=5))  # no word in common with 1, the same meaning
    assert hits.get(1) == (None if score is None else pytest.approx(score, abs=1e-6))


def test_the_floor_leaves_posts_whose_words_match_as_the_blend_scores_them(
    tiny_model: Path,
) -> None:
    blend, floored = make_index(tiny_model, 0.35, 0.0), make_index(tiny_model, 0.35, 0.55)
    blend.add_many(DOCS.items())
    floored.add_many(DOCS.items())
    for query in ("app crash at start", "crash at start", "dark mode", "login slow", "闪退"):
        assert floored.query(query, k=5)[0] == blend.query(query, k=5)[0], query


def test_identical_text_scores_one_and_unrelated_stays_low(tiny_model: Path) -> None:
    hybrid = build(tiny_model)
    top = hybrid.query("夜间模式", k=1)
    assert top[0][0] == 5 and top[0][1] == pytest.approx(1.0, abs=1e-6)
    # Nothing in the model's vocabulary and no shared word: nothing comes back.
    assert hybrid.query("export csv", k=5) == []
    assert all(score < LIKELY_DUPLICATE for _, score in hybrid.query("dark", k=5)[1:])


def test_weight_moves_the_balance(tiny_model: Path) -> None:
    words_only = build(tiny_model, weight=0.0)
    lexical = DedupIndex()
    lexical.add_many(DOCS.items())
    assert words_only.query("freeze", k=5) == []
    assert words_only.query("crash at start", k=5) == lexical.query("crash at start", k=5)
    vectors_only = build(tiny_model, weight=1.0)
    assert vectors_only.query("freeze", k=1)[0] == (1, pytest.approx(1.0, abs=1e-6))
    with pytest.raises(ValueError):
        make_index(tiny_model, 1.5)


def test_edits_removals_and_exclusions_are_incremental(tiny_model: Path) -> None:
    hybrid = build(tiny_model)
    hybrid.remove(1)
    assert 1 not in [d for d, _ in hybrid.query("freeze", k=5)]
    hybrid.add(1, "night theme please")  # an edit: the old text is gone, the new one found
    assert hybrid.query("dark mode", k=2)[1][0] == 1
    assert 2 not in [d for d, _ in hybrid.query("dark mode", k=5, exclude=[2])]
    assert len(hybrid) == len(DOCS)
    hybrid.remove(999)  # unknown ids are ignored
    assert len(hybrid) == len(DOCS)


def test_grows_past_its_first_block_and_reuses_rows(tiny_model: Path) -> None:
    hybrid = make_index(tiny_model)
    hybrid.add_many((i, f"item{i} crash") for i in range(300))
    for i in range(0, 300, 2):
        hybrid.remove(i)
    hybrid.add_many((1000 + i, f"item{1000 + i} dark") for i in range(100))
    assert len(hybrid) == 250
    for doc in (1, 299, 1000, 1099):
        text = f"item{doc} " + ("crash" if doc < 1000 else "dark")
        assert hybrid.query(text, k=1)[0] == (doc, pytest.approx(1.0, abs=1e-6))
    assert all(d % 2 == 1 or d >= 1000 for d, _ in hybrid.query("hang", k=50))


def test_one_model_per_folder_is_shared(tiny_model: Path) -> None:
    assert load_embedder(tiny_model) is load_embedder(str(tiny_model))


def test_a_folder_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="config.json"):
        load_embedder(tmp_path)
    (tmp_path / "config.json").write_text("{}", "utf-8")
    with pytest.raises(ModelError, match="cannot load"):
        load_embedder(tmp_path)


texts = st.text(alphabet=st.sampled_from(list("crash dark mode 闪退夜间模式卡死 xyz")), max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(st.tuples(st.integers(0, 12), st.one_of(st.none(), texts)), max_size=30))
def test_results_only_hold_live_documents(
    tiny_model: Path, ops: list[tuple[int, str | None]]
) -> None:
    hybrid = make_index(tiny_model)
    live: dict[int, str] = {}
    for doc, text in ops:
        if text is None:
            hybrid.remove(doc)
            live.pop(doc, None)
        else:
            hybrid.add(doc, text)
            live[doc] = text
    assert len(hybrid) == len(live)
    for query in ("crash", "夜间模式", "xyz"):
        hits = hybrid.query(query, k=20, exclude=[0])
        ids = [d for d, _ in hits]
        assert set(ids) <= set(live) - {0}
        assert len(set(ids)) == len(ids)
        assert all(0.0 <= s <= 1.0 + 1e-9 for _, s in hits)
        assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)


def test_the_coarse_pass_in_a_reduced_space_finds_the_same(
    tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cogs.suggestions.similarity.hybrid as hybrid_module

    docs = {i: f"{DOCS[1 + i % 5]} n{i}" for i in range(300)}
    full = make_index(tiny_model)
    assert isinstance(full, HybridIndex)
    full.add_many(docs.items())
    # Past 100 vectors the board's main directions are fitted (the model has 32 dimensions).
    monkeypatch.setattr(hybrid_module, "COARSE_DIM", 12)
    monkeypatch.setattr(hybrid_module, "PROJECT_AT", 100)
    reduced = make_index(tiny_model)
    assert isinstance(reduced, HybridIndex)
    reduced.add_many(docs.items())
    assert reduced._vectors._projection is not None and full._vectors._projection is None
    for query in ("freeze", "night theme", "signin laggy", "卡死", "夜间模式"):
        got, want = reduced.query(query, k=3), full.query(query, k=3)
        assert [s for _, s in got] == pytest.approx([s for _, s in want], abs=1e-6), query


def _topic(rng: np.random.Generator, axes: range, count: int) -> Vectors:
    """`count` unit vectors on the given axes (a topic), with a little noise everywhere."""
    rows = rng.normal(0.0, 0.002, (count, 256))
    rows[:, list(axes)] += rng.normal(0.0, 1.0, (count, len(axes)))
    return normalize(rows.astype(np.float32))


def test_the_reduced_space_follows_the_board_as_it_grows(monkeypatch: pytest.MonkeyPatch) -> None:
    """A board of one topic, then a second topic past the first fit: the first pass finds the
    second topic's suggestions once the board has doubled, as reading every vector would."""
    import cogs.suggestions.similarity.hybrid as hybrid_module

    monkeypatch.setattr(hybrid_module, "COARSE_DIM", 16)
    monkeypatch.setattr(hybrid_module, "PROJECT_AT", 200)
    rng = np.random.default_rng(3)
    store = hybrid_module.VectorStore(256)
    store.put_many(range(200), _topic(rng, range(8), 200), np.zeros(200, np.int8))
    assert store._projection is not None  # fitted on the first topic alone
    store.put_many(range(200, 400), _topic(rng, range(100, 108), 200), np.zeros(200, np.int8))
    query = normalize(np.eye(256, dtype=np.float32)[100:101] + 0.5 * np.eye(256)[101:102])[0]
    mu = np.zeros(2, np.float32)
    exact = np.argsort(-(np.vstack([store.vector(d) for d in range(400)]) @ query))[:10]
    assert set(store.nearest(query, mu, mu + 1, 10, set())) == set(exact.tolist())
    assert all(d >= 200 for d in exact)


def test_a_model_with_few_dimensions_is_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """No reduced space for a model no wider than it (a small model2vec model): past the fit
    size its rows are read whole, and the first pass is exact."""
    import cogs.suggestions.similarity.hybrid as hybrid_module

    monkeypatch.setattr(hybrid_module, "PROJECT_AT", 100)
    rng = np.random.default_rng(4)
    dim = hybrid_module.COARSE_DIM // 2
    rows = normalize(rng.normal(size=(300, dim)).astype(np.float32))
    store = hybrid_module.VectorStore(dim)
    store.put_many(range(300), rows, np.zeros(300, np.int8))
    assert store._projection is None
    query = rows[7]
    exact = np.argsort(-(rows @ query))[:5]
    assert (
        store.nearest(query, np.zeros(2, np.float32), np.ones(2, np.float32), 5, set())
        == exact.tolist()
    )


class Fixed:
    """A stand-in model: a fixed unit vector per text."""

    def __init__(self, name: str, rows: dict[str, Vectors], baseline: float) -> None:
        self.name, self._rows, self.baseline = name, rows, baseline
        self.dim = len(next(iter(rows.values())))

    def encode(self, texts: Sequence[str]) -> Vectors:
        return np.vstack([self._rows[t] for t in texts])


unit = st.lists(st.floats(-1, 1), min_size=4, max_size=4).filter(
    lambda v: sum(x * x for x in v) > 1e-3
)


@given(a=st.tuples(unit, unit), b=st.tuples(unit, unit), share=st.floats(0.05, 0.95))
def test_an_ensemble_cosine_is_the_weighted_mean_of_its_models_cosines(
    a: tuple[list[float], list[float]], b: tuple[list[float], list[float]], share: float
) -> None:
    first = Fixed("a", dict(zip("xy", normalize(np.array(a, np.float32)), strict=True)), 0.8)
    second = Fixed("b", dict(zip("xy", normalize(np.array(b, np.float32)), strict=True)), 0.2)
    both = EnsembleEmbedder([(first, share), (second, 1 - share)])
    x, y = both.encode(["x", "y"])
    expected = share * first.encode(["x"])[0] @ first.encode(["y"])[0] + (1 - share) * (
        second.encode(["x"])[0] @ second.encode(["y"])[0]
    )
    assert float(x @ y) == pytest.approx(float(expected), abs=1e-5)
    assert float(x @ x) == pytest.approx(1.0, abs=1e-5)  # unit rows: the same text is 1.0
    assert both.dim == 8 and both.baseline == pytest.approx(0.8 * share + 0.2 * (1 - share))


@given(names=st.lists(st.text(min_size=1, max_size=60), min_size=2, max_size=4))
def test_an_ensemble_name_fits_the_stored_column_and_tells_ensembles_apart(
    names: list[str],
) -> None:
    rows = {"x": np.array([1.0, 0.0], np.float32)}
    parts = [(Fixed(name, rows, 0.5), 1.0) for name in names]
    name = EnsembleEmbedder(parts).name
    assert 0 < len(name) <= MODEL_NAME_LENGTH
    other = EnsembleEmbedder([*parts, (Fixed("another", rows, 0.5), 1.0)]).name
    assert other != name


def _board_with_language_directions(strength: float, size: int) -> tuple[HybridIndex, int]:
    """`size` requests in English and their translations in Chinese, as a multilingual model
    that adds a language direction to each vector embeds them: each request has a direction
    of its own, and every vector also leans (by `strength`) toward its language's direction.
    Unrelated requests of one language then have cosine s^2 / (1 + s^2) (0.8 at strength 2),
    a request and its translation 1 / (1 + s^2) (0.2). Request i is document i in English and
    size + i in Chinese."""
    basis = np.linalg.qr(np.random.default_rng(3).normal(size=(2 * size + 2, size + 2)))[0].T
    english, chinese = basis[size], basis[size + 1]
    rows: dict[str, Vectors] = {}
    docs: list[tuple[int, str]] = []
    for i in range(size):
        en, zh = f"feature{i} ask{i}", chr(0x4E00 + 2 * i) + chr(0x4E01 + 2 * i)
        rows[en] = normalize((basis[i] + strength * english)[None, :].astype(np.float32))[0]
        rows[zh] = normalize((basis[i] + strength * chinese)[None, :].astype(np.float32))[0]
        docs += [(i, en), (size + i, zh)]
    model = Fixed("directions", rows, strength**2 / (1 + strength**2))
    index = HybridIndex(model)
    index.add_many(docs)
    return index, size


@pytest.mark.parametrize("strength", [0.5, 1.0, 2.0, 3.0])
def test_a_language_direction_neither_hides_a_translation_nor_joins_unrelated_requests(
    strength: float,
) -> None:
    index, size = _board_with_language_directions(strength, 200)
    for i in (0, 7, 199):
        english, chinese = f"feature{i} ask{i}", chr(0x4E00 + 2 * i) + chr(0x4E01 + 2 * i)
        to_chinese = index.query(english, k=3, exclude=[i])
        to_english = index.query(chinese, k=3, exclude=[size + i])
        # The translation comes first and is a likely duplicate, both ways ...
        assert to_chinese[0][0] == size + i and to_chinese[0][1] >= LIKELY_DUPLICATE, to_chinese
        assert to_english[0][0] == i and to_english[0][1] >= LIKELY_DUPLICATE, to_english
        # ... and the requests that only share the language are not even related.
        assert all(score < RELATED for _, score in to_chinese[1:] + to_english[1:])
        # The same text is still 1.0.
        assert index.query(english, k=1)[0] == (i, pytest.approx(1.0, abs=1e-6))


class Hashed:
    """A stand-in model: a pseudo-random unit vector per text (the same text, the same
    vector), counting the texts it embeds."""

    def __init__(self, name: str, dim: int, baseline: float) -> None:
        self.name, self.dim, self.baseline, self.seen = name, dim, baseline, []

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.seen += list(texts)
        rows = [np.random.default_rng(list(t.encode()) or [0]).normal(size=self.dim) for t in texts]
        return normalize(np.array(rows, dtype=np.float32).reshape(len(texts), self.dim))


latin_text = st.lists(
    st.sampled_from(["dark", "mode", "app", "crash", "login", "slow"]), min_size=1
)
chinese_text = st.lists(st.sampled_from(list("深色模式闪退登录很慢")), min_size=1)


@given(
    latin=st.lists(latin_text.map(" ".join), min_size=2, max_size=2),
    chinese=st.lists(chinese_text.map("".join), min_size=2, max_size=2),
    share=st.floats(0.05, 0.95),
)
def test_a_routed_vector_adds_the_english_model_to_latin_text_only(
    latin: list[str], chinese: list[str], share: float
) -> None:
    shared, english = Hashed("shared", 6, 0.2), Hashed("english", 4, 0.5)
    routed = RoutedEmbedder(shared, english, share)
    en1, en2, zh1, zh2 = routed.encode([*latin, *chinese])
    assert english.seen == latin  # the English model never reads Chinese
    s, e = shared.encode, english.encode
    # Two Latin texts: the weighted mean of the two models' cosines.
    expected = share * s([latin[0]])[0] @ s([latin[1]])[0]
    expected += (1 - share) * e([latin[0]])[0] @ e([latin[1]])[0]
    assert float(en1 @ en2) == pytest.approx(float(expected), abs=1e-5)
    # Two Chinese texts: the shared model's cosine, as with it alone.
    assert float(zh1 @ zh2) == pytest.approx(
        float(s([chinese[0]])[0] @ s([chinese[1]])[0]), abs=1e-5
    )
    # Across languages the shared parts compare, each of the length `layout` says.
    d = routed.layout.shared_dim
    alone = float(s([latin[0]])[0] @ s([chinese[0]])[0])
    assert d == 6 and routed.dim == 10
    assert float(en1[:d] @ zh1[:d]) == pytest.approx(np.sqrt(share) * alone, abs=1e-5)
    assert routed.layout.shared_norms[LATIN] == pytest.approx(np.sqrt(share))
    assert routed.layout.shared_norms[CHINESE] == 1.0
    for row in (en1, en2, zh1, zh2):
        assert float(row @ row) == pytest.approx(1.0, abs=1e-5)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    latin=st.lists(latin_text.map(" ".join), min_size=1, max_size=12, unique=True),
    chinese=st.lists(chinese_text.map("".join), min_size=1, max_size=12, unique=True),
    share=st.floats(0.1, 0.9),
)
def test_across_languages_a_routed_model_scores_as_its_shared_model_alone(
    latin: list[str], chinese: list[str], share: float
) -> None:
    """The English part of a Latin text's vector must not blur its score against a Chinese one
    (the English model knows no Chinese): across languages, the semantic score (weight 1) is
    the shared model's, whatever the English model says."""
    docs = list(enumerate(latin + chinese))
    shared = Hashed("shared", 6, 0.2)
    alone = HybridIndex(shared, 1.0)
    routed = HybridIndex(RoutedEmbedder(shared, Hashed("english", 4, 0.5), share), 1.0)
    alone.add_many(docs)
    routed.add_many(docs)
    for query, others in (
        (latin[0], range(len(latin), len(docs))),
        (chinese[0], range(len(latin))),
    ):
        by_alone = dict(alone.query(query, k=len(docs)))
        by_routed = dict(routed.query(query, k=len(docs)))
        for doc in others:  # the other language's documents
            assert by_routed.get(doc, 0.0) == pytest.approx(by_alone.get(doc, 0.0), abs=2e-3)
    # The same text is still 1.0.
    assert routed.query(latin[0], k=1)[0] == (0, pytest.approx(1.0, abs=1e-6))
