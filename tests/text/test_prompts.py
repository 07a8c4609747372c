"""Clinical prompts (survlib.text.prompts): rendering, template draws, errors, real cohorts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survlib.text import (
    GDC_FIELDS,
    TEMPLATES,
    book_prompts,
    clinical_prompts,
    render_value,
)


def test_render_value() -> None:
    assert render_value("age", 71.9) == "71"
    assert render_value("stage", "Stage IIA") == "stage IIA"
    assert (
        render_value("subtype", "Hepatocellular carcinoma, NOS") == "hepatocellular carcinoma, NOS"
    )
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


def test_book_prompts_describe_a_real_cohorts_recorded_fields() -> None:
    """book_prompts (survlib.text, not survlib.data.tcga: data sits below text): age, sex, stage,
    subtype in that order, "not reported" read as missing, stages written "stage ..."."""
    from survlib.data.multimodal import MultimodalCohort

    clinical = pd.DataFrame(
        {
            "time": [10.0, 20.0],
            "event": [1, 0],
            "age": [61.0, 47.0],
            "sex": ["female", "male"],
            "stage": ["IIA", "not reported"],
            "subtype": ["not reported", "Hepatocellular carcinoma, NOS"],
        },
        index=["TCGA-A", "TCGA-B"],
    )
    expression = pd.DataFrame({"g": [0.0, 1.0]}, index=clinical.index)
    cohort = MultimodalCohort.from_tables(clinical, expression, name="two real patients")
    prompts = book_prompts(cohort)
    assert list(prompts.columns) == ["age", "sex", "stage", "subtype"]
    assert list(prompts.index) == ["TCGA-A", "TCGA-B"]
    assert prompts.loc["TCGA-A"].tolist() == [
        "The age is 61 years old.",
        "The sex is female.",
        "The tumor stage is stage IIA.",
        "The tumor subtype is not reported.",
    ]
    assert prompts.loc["TCGA-B", "stage"] == "The tumor stage is not reported."
    assert prompts.loc["TCGA-B", "subtype"] == "The tumor subtype is hepatocellular carcinoma, NOS."
