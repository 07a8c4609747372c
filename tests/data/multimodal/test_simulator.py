"""The simulated multimodal cohort (survlib.data.multimodal.simulator): determinism, planted truth,
censoring, clinical frequencies, slide mode.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survlib.data.multimodal import (
    CLINICAL_FIELDS,
    MultimodalCohort,
    simulate_multimodal_cohort,
)
from survlib.survival import concordance
from tests.data.multimodal._data import SMALL


def test_deterministic_by_seed() -> None:
    a = simulate_multimodal_cohort(60, seed=5, **SMALL)
    b = simulate_multimodal_cohort(60, seed=5, **SMALL)
    c = simulate_multimodal_cohort(60, seed=6, **SMALL)
    pd.testing.assert_frame_equal(a.clinical, b.clinical)
    pd.testing.assert_frame_equal(a.expression, b.expression)
    assert all(np.array_equal(x, y) for x, y in zip(a.bags, b.bags, strict=True))
    np.testing.assert_array_equal(a.truth.risk, b.truth.risk)
    assert a.truth.prognostic_pathways == b.truth.prognostic_pathways
    assert not np.allclose(a.truth.risk, c.truth.risk)
    assert not a.clinical["time"].equals(c.clinical["time"])


def test_true_risk_is_prognostic_and_shuffled_risk_is_not(cohort: MultimodalCohort) -> None:
    risk = cohort.truth.risk
    assert concordance(risk, cohort.time, cohort.event) > 0.72
    rng = np.random.default_rng(0)
    shuffled = [concordance(rng.permutation(risk), cohort.time, cohort.event) for _ in range(20)]
    assert abs(np.mean(shuffled) - 0.5) < 0.03
    # each modality's own component carries signal too
    for name in ("clinical", "pathway", "morphology"):
        assert concordance(cohort.truth.components[name], cohort.time, cohort.event) > 0.6


@pytest.mark.parametrize("rate", [0.65, 0.72, 0.86])
def test_censoring_rate_is_hit(rate: float) -> None:
    c = simulate_multimodal_cohort(300, seed=1, censoring_rate=rate, **SMALL)
    assert abs(c.censoring_rate - rate) < 0.01
    assert (c.time > 0).all() and (c.time <= 150.0 + 1e-9).all()
    assert set(np.unique(c.event)) == {0, 1}


def test_default_cohort_is_tcga_like(cohort: MultimodalCohort) -> None:
    assert 0.65 <= cohort.censoring_rate <= 0.86
    assert list(cohort.clinical_fields) == list(CLINICAL_FIELDS)
    assert cohort.clinical.attrs["simulated"] and cohort.expression.attrs["simulated"]
    assert cohort.attrs["simulated"]
    assert "simulated" in repr(cohort)
    assert cohort.clinical["age"].between(18, 90).all()
    assert cohort.clinical["stage"].str.startswith(("Stage", "not reported")).all()
    assert (cohort.time > 60).mean() > 0.05  # enough follow-up to evaluate 5-year AUC


def test_risk_is_the_weighted_sum_of_components() -> None:
    c = simulate_multimodal_cohort(
        80,
        seed=2,
        clinical_strength=0.0,
        pathway_strength=1.5,
        morphology_strength=0.25,
        interaction_strength=0.5,
        **SMALL,
    )
    comp = c.truth.components
    expected = 1.5 * comp["pathway"] + 0.25 * comp["morphology"] + 0.5 * comp["interaction"]
    np.testing.assert_allclose(c.truth.risk, expected.to_numpy(), atol=1e-12)
    for col in comp.columns:
        assert abs(comp[col].mean()) < 1e-9 and abs(comp[col].std(ddof=0) - 1) < 1e-9


def test_planted_patch_types_follow_morphology(cohort: MultimodalCohort) -> None:
    names = cohort.patch_type_names
    assert set(cohort.truth.prognostic_patch_types) == {"necrosis", "lymphocytes"}
    necrosis = np.array([np.mean(t == names.index("necrosis")) for t in cohort.patch_types])
    lymph = np.array([np.mean(t == names.index("lymphocytes")) for t in cohort.patch_types])
    morph = cohort.truth.components["morphology"].to_numpy()
    assert np.corrcoef(morph, necrosis)[0, 1] > 0.3
    assert np.corrcoef(morph, lymph)[0, 1] < -0.3
    for planted, types in zip(cohort.truth.planted, cohort.patch_types, strict=True):
        expected = np.isin(types, [names.index("necrosis"), names.index("lymphocytes")])
        np.testing.assert_array_equal(planted, expected)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="censoring_rate"):
        simulate_multimodal_cohort(50, censoring_rate=1.2)
    with pytest.raises(ValueError, match="patch_source"):
        simulate_multimodal_cohort(50, patch_source="pixels")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_patients"):
        simulate_multimodal_cohort(2)


def test_slide_mode_builds_bags_from_synthetic_slides(tmp_path) -> None:
    c = simulate_multimodal_cohort(
        4,
        seed=0,
        patch_source="slides",
        slide_size=512,
        slide_patch_size=64,
        workdir=tmp_path,
        n_genes=40,
        n_pathways=4,
    )
    assert c.attrs["patch_source"] == "slides" and c.attrs["simulated"]
    assert len(c.slide_paths) == 4 and all(p.is_file() for p in c.slide_paths)
    for bag, coords, types in zip(c.bags, c.coords, c.patch_types, strict=True):
        assert bag.shape[0] == coords.shape[0] == types.shape[0] > 0
        assert bag.shape[1] == 46  # the handcrafted encoder's features
    assert c.size_level0 == 128
    assert c.truth.prognostic_patch_types == ["necrosis", "lymphocytes"]
