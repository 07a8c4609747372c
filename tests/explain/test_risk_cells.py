"""survlib.explain.risk_cells: the 2-means threshold, risk-cell metrics (the authors' macro
definition, hand-computed), neighbour smoothing (against scikit-learn's exact neighbours), batch
mixing, and identify_risk_cells on a trained ScSurvival (rules, hazard forms, non-finite input)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from survlib._core.finite import NonFiniteError
from survlib.explain import (
    batch_mixing,
    identify_risk_cells,
    neighbour_mean,
    risk_cell_metrics,
    two_means_threshold,
)
from survlib.models.sc import ScSurvival
from tests.models.sc.helpers import GUARD_TINY, TINY
from tests.models.sc.helpers import cohort as _cohort

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_two_means_threshold_and_metrics():
    v = np.r_[np.zeros(50), np.ones(10)]
    assert two_means_threshold(v) == pytest.approx(0.5)
    truth = np.array(["higher", "lower", "neutral", "neutral"])
    m = risk_cell_metrics(truth, truth)
    assert m["macro_f1"] == 1.0 and m["binary_f1"] == 1.0
    m = risk_cell_metrics(truth, np.array(["higher", "neutral", "neutral", "neutral"]))
    # P = (1 + 0 + 2/3) / 3, R = (1 + 0 + 1) / 3, F1 = 2PR/(P+R) (the authors' definition)
    p, r = (1 + 0 + 2 / 3) / 3, 2 / 3
    assert m["macro_precision"] == pytest.approx(p)
    assert m["macro_f1"] == pytest.approx(2 * p * r / (p + r))


def test_neighbour_mean_exact_and_subsampled():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3)).astype(np.float32)
    v = x[:, 0] ** 2 + rng.normal(0, 0.1, 400)
    exact = neighbour_mean(x, v, k=5)
    from sklearn.neighbors import NearestNeighbors

    idx = NearestNeighbors(n_neighbors=5).fit(x).kneighbors(x, return_distance=False)
    np.testing.assert_allclose(exact, v[idx].mean(1))
    # above max_reference: neighbours among a random subsample, close to the exact smoothing
    approx = neighbour_mean(x, v, k=5, max_reference=200, chunk=64)
    assert not np.allclose(approx, exact)
    assert np.corrcoef(approx, exact)[0, 1] > 0.9
    np.testing.assert_array_equal(approx, neighbour_mean(x, v, k=5, max_reference=200))  # seeded


def test_batch_mixing():
    rng = np.random.default_rng(0)
    batch = np.repeat(["a", "b"], 100)
    separated = np.r_[rng.normal(0, 1, (100, 2)), rng.normal(50, 1, (100, 2))]
    mixed = rng.normal(0, 1, (200, 2))
    assert batch_mixing(separated, batch) < 0.05
    assert batch_mixing(mixed, batch) > 0.8


@pytest.fixture(scope="module")
def trained():
    adata = _cohort()
    ScSurvival.setup_anndata(adata)
    model = ScSurvival(adata, **TINY).train(progress=False, seed=0)
    return model, adata


def test_identify_risk_cells_writes_groups(trained):
    model, adata = trained
    groups = identify_risk_cells(model, adata)
    assert set(groups.unique()) <= {"higher", "lower", "neutral"}
    assert (
        adata.obs["predicted_risk_cell"] == (adata.obs["predicted_risk_group"] == "higher")
    ).all()
    called = groups.to_numpy() != "neutral"
    hz = adata.obs["hazard_score_smoothed"].to_numpy()
    assert (np.abs(hz[called]) >= model.risk_threshold_).all()
    assert (hz[groups.to_numpy() == "higher"] > 0).all()
    # smoothing = mean over the 30 nearest neighbours in the embedding (itself included)
    z = adata.obsm["X_zigvae"]
    d = ((z[:, None, :] - z[None, :5, :]) ** 2).sum(-1)
    nearest = np.argsort(d, axis=0, kind="stable")[:30]
    raw = adata.obs["hazard_score"].to_numpy()
    np.testing.assert_allclose(hz[:5], raw[nearest].mean(axis=0), rtol=1e-4, atol=1e-5)
    # the approximate search probes all 8 leaves of these 384 cells: the same smoothing
    exact_smoothed = hz.copy()
    identify_risk_cells(model, adata, neighbour_method="approximate")
    np.testing.assert_allclose(adata.obs["hazard_score_smoothed"], exact_smoothed, rtol=1e-12)
    with pytest.raises(ValueError, match="method must be"):
        identify_risk_cells(model, adata, neighbour_method="vibes")
    identify_risk_cells(model, adata, smooth_neighbors=1)
    assert (
        np.abs(
            adata.obs["hazard_score"].to_numpy()[
                adata.obs["predicted_risk_group"].to_numpy() != "neutral"
            ]
        ).min()
        >= model.risk_threshold_
    )
    identify_risk_cells(model, adata, rule="authors")
    assert 0 <= model.risk_threshold_ <= 1
    with pytest.raises(ValueError, match="rule"):
        identify_risk_cells(model, adata, rule="vibes")


def test_identify_risk_cells_with_the_authors_hazard_form(trained):
    model, adata = trained
    identify_risk_cells(model, adata, hazard_form="authors", smooth_neighbors=1)
    hz = adata.obs["hazard_score_authors"].to_numpy()
    z = torch.tensor(adata.obsm["X_zigvae"][:40])
    with torch.no_grad():
        ref = model.amicr.cell_scores(z, form="authors")["hazard_score"].numpy()
    np.testing.assert_allclose(hz[:40], ref, rtol=1e-5, atol=1e-6)
    groups = adata.obs["predicted_risk_group"].to_numpy()
    assert (hz[groups == "higher"] > 0).all() and (hz[groups == "lower"] <= 0).all()
    with pytest.raises(ValueError, match="hazard_form"):
        identify_risk_cells(model, adata, hazard_form="vibes")


@pytest.fixture(scope="module")
def sc_cohort():
    adata = _cohort(16, 24, 60, 0)
    ScSurvival.setup_anndata(adata)
    return adata


def test_scsurvival_prediction_and_risk_cells_refuse_non_finite_values(sc_cohort) -> None:
    model = ScSurvival(sc_cohort, **GUARD_TINY).train(progress=False, seed=0)
    identify_risk_cells(model)  # finite: works
    sc_cohort.obs.loc[sc_cohort.obs.index[3], "hazard_score"] = np.nan
    with pytest.raises(NonFiniteError, match=r"identify_risk_cells: the hazard scores .* hold 1"):
        identify_risk_cells(model, recompute=False)
    with torch.no_grad():
        model.features.fc_mu.bias[0] = float("nan")  # a diverged encoder
    with pytest.raises(NonFiniteError, match="ScSurvival.predict_risk: the cell embeddings"):
        model.predict_risk()
    with pytest.raises(NonFiniteError, match="predict_risk"):
        identify_risk_cells(model)
