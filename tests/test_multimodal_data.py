"""The simulated multimodal cohort, bag batching, fold preparation and the bag-model recipe."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from survlib.data.multimodal import (
    CLINICAL_FIELDS,
    MultimodalCohort,
    clinical_design_matrix,
    load_survpath_pathways,
    pad_bags,
    prepare_fold,
    simulate_multimodal_cohort,
    simulate_pathway_membership,
)
from survlib.survival import concordance

SMALL = dict(n_genes=120, n_pathways=12, d_patch=8, patches_per_patient=(5, 12))


@pytest.fixture(scope="module")
def cohort() -> MultimodalCohort:
    return simulate_multimodal_cohort(400, seed=3, **SMALL)


# ----------------------------------------------------------------------------- the simulator


def test_deterministic_by_seed() -> None:
    a = simulate_multimodal_cohort(60, seed=5, **SMALL)
    b = simulate_multimodal_cohort(60, seed=5, **SMALL)
    c = simulate_multimodal_cohort(60, seed=6, **SMALL)
    pd.testing.assert_frame_equal(a.clinical, b.clinical)
    pd.testing.assert_frame_equal(a.expression, b.expression)
    assert all(np.array_equal(x, y) for x, y in zip(a.bags, b.bags))
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
    c = simulate_multimodal_cohort(80, seed=2, clinical_strength=0.0, pathway_strength=1.5,
                                   morphology_strength=0.25, interaction_strength=0.5, **SMALL)
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
    for planted, types in zip(cohort.truth.planted, cohort.patch_types):
        expected = np.isin(types, [names.index("necrosis"), names.index("lymphocytes")])
        np.testing.assert_array_equal(planted, expected)


def test_pathway_membership_and_prognostic_pathways(cohort: MultimodalCohort) -> None:
    pm = cohort.pathways
    assert pm.matrix.shape == (12, 120)
    assert bool(pm.matrix.any(dim=0).all())  # every gene is in a pathway
    assert list(cohort.expression.columns) == pm.genes
    assert set(cohort.truth.prognostic_pathways) <= set(pm.pathway_names)
    big = simulate_pathway_membership(331, 4999, seed=0)
    sizes = big.sizes
    assert sizes.min() >= 5 and 20 <= np.median(sizes) <= 45 and sizes.max() > 100


def test_survpath_pathways_from_file_and_offline_fallback(tmp_path, monkeypatch) -> None:
    csv = tmp_path / "combine_signatures.csv"
    pd.DataFrame({"HALLMARK_A": ["TP53", "MYC", "EGFR"],
                  "REACTOME_B": ["MYC", "KRAS", np.nan]}).to_csv(csv, index=False)
    pm = load_survpath_pathways(csv)
    assert pm.pathway_names == ["HALLMARK_A", "REACTOME_B"]
    assert pm.genes == ["EGFR", "KRAS", "MYC", "TP53"]
    assert pm.sizes.tolist() == [3, 2]
    # offline with an empty cache: "auto" simulates the pathways and never downloads
    monkeypatch.setenv("SURVLIB_DATA_DIR", str(tmp_path / "empty_cache"))
    assert load_survpath_pathways() is None
    c = simulate_multimodal_cohort(30, seed=0, pathways="auto", **SMALL)
    assert c.attrs["pathway_source"] == "simulated"


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="censoring_rate"):
        simulate_multimodal_cohort(50, censoring_rate=1.2)
    with pytest.raises(ValueError, match="patch_source"):
        simulate_multimodal_cohort(50, patch_source="pixels")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_patients"):
        simulate_multimodal_cohort(2)


def test_slide_mode_builds_bags_from_synthetic_slides(tmp_path) -> None:
    c = simulate_multimodal_cohort(4, seed=0, patch_source="slides", slide_size=512,
                                   slide_patch_size=64, workdir=tmp_path, n_genes=40,
                                   n_pathways=4)
    assert c.attrs["patch_source"] == "slides" and c.attrs["simulated"]
    assert len(c.slide_paths) == 4 and all(p.is_file() for p in c.slide_paths)
    for bag, coords, types in zip(c.bags, c.coords, c.patch_types):
        assert bag.shape[0] == coords.shape[0] == types.shape[0] > 0
        assert bag.shape[1] == 46  # the handcrafted encoder's features
    assert c.size_level0 == 128
    assert c.truth.prognostic_patch_types == ["necrosis", "lymphocytes"]


# ----------------------------------------------------------------------------- batching


def test_pad_bags_masks_and_pads() -> None:
    bags = [np.ones((3, 2), np.float32), 2 * np.ones((5, 2), np.float32),
            3 * np.ones((1, 2), np.float32)]
    x, mask, kept = pad_bags(bags)
    assert x.shape == (3, 5, 2) and mask.dtype == torch.bool
    assert mask.sum(dim=1).tolist() == [3, 5, 1]
    assert torch.all(x[~mask] == 0)
    assert torch.all(x[0, :3] == 1) and torch.all(x[2, :1] == 3)
    assert [k.tolist() for k in kept] == [[0, 1, 2], [0, 1, 2, 3, 4], [0]]


def test_pad_bags_subsamples_large_bags() -> None:
    bags = [np.arange(20, dtype=np.float32).reshape(10, 2), np.zeros((3, 2), np.float32)]
    x, mask, kept = pad_bags(bags, max_patches=4)
    assert x.shape == (2, 4, 2) and mask.sum(dim=1).tolist() == [4, 3]
    np.testing.assert_array_equal(kept[0], [0, 3, 6, 9])  # evenly spaced without rng
    rng = np.random.default_rng(0)
    subsets = {tuple(pad_bags(bags, 4, rng)[2][0]) for _ in range(10)}
    assert len(subsets) > 1  # a new random subset each step
    for s in subsets:
        assert len(set(s)) == 4 and list(s) == sorted(s)
    # rows are the kept patches, standardised when asked
    x, _, kept = pad_bags(bags, 4, mean=np.array([1.0, 1.0], np.float32),
                          sd=np.array([2.0, 2.0], np.float32))
    np.testing.assert_allclose(x[0].numpy(), (bags[0][kept[0]] - 1.0) / 2.0)


def test_pad_bags_rejects_bad_bags() -> None:
    with pytest.raises(ValueError, match="bag 1 is empty"):
        pad_bags([np.ones((2, 3)), np.ones((0, 3))])
    with pytest.raises(ValueError, match="features"):
        pad_bags([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(ValueError, match="no bags"):
        pad_bags([])


def test_prepare_fold_uses_training_patients_only(cohort: MultimodalCohort) -> None:
    train = np.arange(0, 300)
    data = prepare_fold(cohort, train, n_bins=4)
    np.testing.assert_allclose(data.genes[train].mean(axis=0), 0.0, atol=1e-4)
    # changing test patients' values changes nothing about the training patients' inputs
    other = MultimodalCohort(
        clinical=cohort.clinical, expression=cohort.expression.copy(), pathways=cohort.pathways,
        bags=[b.copy() for b in cohort.bags], attrs=cohort.attrs)
    other.expression.iloc[300:] += 100.0
    for i in range(300, 400):
        other.bags[i] = other.bags[i] + 50.0
    data2 = prepare_fold(other, train, n_bins=4)
    np.testing.assert_allclose(data.genes[train], data2.genes[train])
    np.testing.assert_allclose(data.patch_mean, data2.patch_mean)
    np.testing.assert_allclose(data.bins.edges, data2.bins.edges)
    assert data.bin_index.min() == 0 and data.bin_index.max() == 3


def test_fold_batch_is_a_survival_batch(cohort: MultimodalCohort) -> None:
    tokens = np.random.default_rng(0).standard_normal((len(cohort), 6, 7)).astype(np.float32)
    data = prepare_fold(cohort, np.arange(300), clinical_tokens=tokens)
    idx = np.array([3, 350, 10])
    b = data.batch(idx, max_patches=6)
    n = [min(len(cohort.bags[i]), 6) for i in idx]
    assert b.patches.shape == (3, max(n), 8) and b.patch_mask.sum(dim=1).tolist() == n
    assert b.genes.shape == (3, 120) and b.clinical.shape == (3, data.n_clinical)
    assert b.clinical_tokens.shape == (3, 6, 7)
    assert b.bin_index.dtype == torch.long and b.event.dtype == torch.long
    assert b.time.dtype == torch.float32
    np.testing.assert_allclose(b.time.numpy(), cohort.time[idx], rtol=1e-6)
    assert data.batch(idx, with_patches=False).patches is None
    batches = list(data.iter_batches(np.arange(20), batch_size=8,
                                     rng=np.random.default_rng(1)))
    assert [len(x) for x in batches] == [8, 8, 4]


def test_clinical_design_matrix() -> None:
    table = pd.DataFrame({"age": [50, 60, 70], "sex": ["male", "female", "male"],
                          "time": [1.0, 2.0, 3.0], "event": [1, 0, 1]})
    x = clinical_design_matrix(table)
    assert list(x.columns) == ["age", "sex_male"]
    assert clinical_design_matrix(table, drop_first=False).shape == (3, 3)


def test_from_tables_wraps_a_real_cohort() -> None:
    from survlib.data.bundled import load_breast_cancer

    expression, clinical = load_breast_cancer()
    c = MultimodalCohort.from_tables(clinical, expression, name="Desmedt 2007")
    assert len(c) == 198 and c.bags is None and not c.attrs["simulated"]
    data = prepare_fold(c, np.arange(150))
    b = data.batch(np.arange(5))
    assert b.patches is None and b.genes.shape == (5, 76)


# ----------------------------------------------------------------------------- the recipe


def test_fit_and_evaluate_discrete_model_and_protocols() -> None:
    from survlib.models import MODEL_ZOO
    from survlib.models.discrete import (
        discrete_cv_fold,
        evaluate_discrete_model,
        fit_discrete_model,
        protocol_comparison,
    )
    from survlib.train import cv_splits, seed_everything

    c = simulate_multimodal_cohort(160, seed=0, clinical_strength=1.5, **SMALL)
    split = cv_splits(c.event, n_folds=2, seed=0)[0]
    data = prepare_fold(c, split.train)
    seed_everything(0)
    model = MODEL_ZOO["MLP (clinic covariates)"](
        d_patch=None, pathways=None, n_genes=None, d_text=None, n_clinical=data.n_clinical,
        n_bins=4)
    fitted = fit_discrete_model(model, data, split, max_epochs=8, patience=None, lr=5e-3,
                                batch_size=16, track_test=True, device="cpu")
    assert fitted.trace is not None and len(fitted.trace) == 8
    metrics = evaluate_discrete_model(fitted)
    assert {"C-index", "AUC 12m", "AUC 36m", "AUC 60m", "iAUC", "IBS"} <= set(metrics)
    assert metrics["C-index"] > 0.6
    rel = evaluate_discrete_model(fitted, auc_at="released")
    assert {"AUC 12m (released)", "AUC 36m (released)", "AUC 60m (released)",
            "iAUC (released)"} <= set(rel)
    # the honest epoch's tracked test C-index is what evaluating the kept weights gives
    best = fitted.trace.set_index("epoch").loc[fitted.result.best_epoch, "test C-index"]
    assert best == pytest.approx(metrics["C-index"])
    both = protocol_comparison(fitted, min_epoch=3)
    assert both["optimism"] >= 0.0  # the max over epochs of the test C-index
    assert both["C-index (test-selected)"] == pytest.approx(
        fitted.trace.loc[fitted.trace.epoch >= 3, "test C-index"].max())
    # the leaky option really selects on the test fold
    seed_everything(0)
    model2 = MODEL_ZOO["MLP (clinic covariates)"](
        d_patch=None, pathways=None, n_genes=None, d_text=None, n_clinical=data.n_clinical,
        n_bins=4)
    leaky = fit_discrete_model(model2, data, split, max_epochs=8, patience=None, lr=5e-3,
                               batch_size=16, select_on="test", select_metric="cindex",
                               min_epoch=3, device="cpu")
    assert leaky.selected_on == "test"
    assert leaky.result.best_epoch >= 3
    assert evaluate_discrete_model(leaky)["C-index"] == pytest.approx(
        both["C-index (test-selected)"])
    # the cross-validation helper
    store: dict = {}
    run = discrete_cv_fold(
        lambda d: MODEL_ZOO["MLP (genomic)"](d_patch=None, pathways=d.pathways,
                                              n_genes=d.n_genes, d_text=None, n_clinical=None,
                                              n_bins=4, hidden=16),
        c, store=store, max_epochs=3, patience=None, device="cpu")
    out = run(split, 0)
    assert "C-index" in out and (0, 0) in store
    assert store[(0, 0)]["risk"].shape == (len(split.test),)
    with pytest.raises(ValueError, match="select_on"):
        fit_discrete_model(model, data, split, select_on="train")
