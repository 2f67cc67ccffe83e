"""A tiny model2vec model saved in a temporary folder, for the `semantic` extra's tests.

Words of a group share one vector, so "crash" and "freeze" (or 闪退 and 卡死) are paraphrases
to the model while they share no word or character: what only an embedding can find.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

GROUPS = [
    ["crash", "freeze", "hang"],
    ["dark", "night"],
    ["mode", "theme"],
    ["login", "signin"],
    ["slow", "laggy"],
    ["闪", "卡"],
    ["退", "死"],
    ["夜", "深"],
    ["间", "色"],
    ["模"],
    ["式"],
]


def save_tiny_model(folder: Path) -> Path:
    model2vec = pytest.importorskip("model2vec")
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    vocab = {"[UNK]": 0, "[PAD]": 1}
    for group in GROUPS:
        for word in group:
            vocab[word] = len(vocab)
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(
        lowercase=True, handle_chinese_chars=True, strip_accents=False, clean_text=True
    )
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    # One orthonormal direction per group: different groups have cosine 0.
    basis = np.linalg.qr(np.random.default_rng(7).normal(size=(32, 32)))[0]
    vectors = np.zeros((len(vocab), 32), dtype=np.float32)
    for g, group in enumerate(GROUPS):
        for word in group:
            vectors[vocab[word]] = basis[g]
    model = model2vec.StaticModel(vectors=vectors, tokenizer=tokenizer, normalize=True)
    model.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("model"))
