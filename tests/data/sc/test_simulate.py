"""survlib.data.sc.simulate: the simulated cohort's schema, its counts, determinism, censoring,
the authors' ordered design, the covariate, what each setting looks like to clustering and to a
supervised classifier, streaming to .h5ad, and bad parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from survlib.data.sc import SC_SETTINGS, simulate_sc_cohort

OBS_COLUMNS = ["patient_id", "time", "event", "batch", "cell_type", "risk_group", "risk_cell"]


@pytest.fixture(scope="module")
def small():
    return simulate_sc_cohort(20, 150, 300, setting="hardest", seed=0)


def test_schema_and_labels(small):
    a = small
    assert sp.isspmatrix_csr(a.X) and a.X.dtype == np.float32
    assert a.X.min() >= 0 and np.all(a.X.data == np.round(a.X.data))
    for c in OBS_COLUMNS:
        assert c in a.obs.columns
    for c in ("patient_id", "batch", "cell_type", "risk_group"):
        assert isinstance(a.obs[c].dtype, pd.CategoricalDtype)
    assert set(a.obs["risk_group"].cat.categories) == {"higher", "lower", "neutral"}
    assert (a.obs["risk_cell"] == (a.obs["risk_group"] == "higher")).all()
    assert a.obs["event"].dtype.kind == "i" and set(a.obs["event"].unique()) <= {0, 1}
    assert (a.obs["time"] > 0).all()
    assert a.uns["simulated"] is True
    assert a.uns["simulation"]["setting"] == "hardest"
    assert a.var_names[0].startswith("gene")
    # time / event constant within a patient and equal to the patient table
    g = a.obs.groupby("patient_id", observed=True)
    assert (g["time"].nunique() == 1).all() and (g["event"].nunique() == 1).all()
    pt = a.uns["patients"]
    assert list(pt.columns[:7]) == [
        "patient_id",
        "time",
        "event",
        "true_risk",
        "frac_higher",
        "frac_lower",
        "batch",
    ]
    np.testing.assert_allclose(g["time"].first().loc[pt["patient_id"]].to_numpy(), pt["time"])
    # realised fractions match the cells
    fh = g["risk_cell"].mean().loc[pt["patient_id"]].to_numpy()
    np.testing.assert_allclose(fh, pt["frac_higher"])


def test_counts_look_like_scrnaseq(small):
    x = small.X
    density = x.nnz / np.prod(x.shape)
    assert 0.05 < density < 0.6  # sparse
    dense = x.toarray()
    m, v = dense.mean(0), dense.var(0)
    high = m > 2
    assert high.sum() > 10 and np.median(v[high] / m[high]) > 1.5  # over-dispersed
    lib = dense.sum(1)
    assert lib.std() / lib.mean() > 0.2  # library sizes vary


def test_deterministic_and_seed_dependent():
    a = simulate_sc_cohort(8, 60, 120, setting="substate", seed=5)
    b = simulate_sc_cohort(8, 60, 120, setting="substate", seed=5)
    c = simulate_sc_cohort(8, 60, 120, setting="substate", seed=6)
    assert (a.X != b.X).nnz == 0
    pd.testing.assert_frame_equal(a.obs, b.obs)
    assert a.shape != c.shape or (a.X != c.X).nnz > 0


def test_cells_per_patient_vary_and_censoring_rate():
    a = simulate_sc_cohort(200, 40, 60, setting="distinct", seed=1, censoring_rate=0.3)
    pt = a.uns["patients"]
    assert pt["n_cells"].std() > 5
    assert abs((1 - pt["event"].mean()) - 0.3) < 0.03
    assert 10 < pt["time"].median() < 60  # months
    # higher-risk abundance raises the hazard: patients with more higher-risk cells die earlier
    from lifelines.utils import concordance_index

    c = concordance_index(pt["time"], -pt["frac_higher"] + pt["frac_lower"], pt["event"])
    assert c > 0.65
    b = simulate_sc_cohort(
        50, 40, 60, seed=1, cells_per_patient_sd=0.0, censoring_rate=0.0, max_follow_up=None
    )
    assert b.uns["patients"]["n_cells"].nunique() == 1 and b.uns["patients"]["event"].all()


def test_ordered_survival_is_the_authors_design():
    """survival="ordered": death at the risk rank, censored patients before their death."""
    a = simulate_sc_cohort(
        200, 30, 60, setting="substate", seed=4, survival="ordered", censoring_rate=0.1
    )
    pt = a.uns["patients"]
    rank = pt["true_risk"].rank(ascending=False, method="first").to_numpy()
    dead = pt["event"].to_numpy() == 1
    np.testing.assert_array_equal(pt["time"].to_numpy()[dead], rank[dead])
    assert (pt["time"].to_numpy()[~dead] < rank[~dead]).all()
    assert 0.05 < (~dead).mean() < 0.16
    assert a.uns["simulation"]["survival"] == "ordered"
    # the same patients and cells as the default design: only the outcome differs
    b = simulate_sc_cohort(200, 30, 60, setting="substate", seed=4, censoring_rate=0.1)
    np.testing.assert_array_equal(pt["true_risk"], b.uns["patients"]["true_risk"])


def test_covariate_effect():
    a = simulate_sc_cohort(300, 20, 60, seed=2, effect_size=0.0, covariate_effect=2.0)
    pt = a.uns["patients"]
    assert "age" in a.obs.columns
    assert np.corrcoef(pt["age"], pt["true_risk"])[0, 1] > 0.99


def _best_jaccard(labels: np.ndarray, truth: np.ndarray) -> float:
    return max(
        ((labels == c) & truth).sum() / ((labels == c) | truth).sum() for c in np.unique(labels)
    )


def _cluster(a, k: int) -> np.ndarray:
    """Standard unsupervised route: log-normalise, PCA (15), k-means."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    x = a.X.toarray()
    x = np.log1p(x / x.sum(1, keepdims=True) * 1e4)
    pcs = PCA(15, random_state=0).fit_transform(x)
    return KMeans(k, n_init=3, random_state=0).fit_predict(pcs)


def test_distinct_separates():
    from sklearn.metrics import adjusted_rand_score

    a = simulate_sc_cohort(15, 100, 400, setting="distinct", seed=1)
    lab = _cluster(a, a.obs["cell_type"].nunique())
    assert adjusted_rand_score(a.obs["cell_type"], lab) > 0.9
    assert _best_jaccard(lab, a.obs["risk_cell"].to_numpy()) > 0.9


def test_hardest_does_not_form_a_cluster():
    h = simulate_sc_cohort(15, 100, 400, setting="hardest", seed=1)
    hi = h.obs["risk_cell"].to_numpy()
    lab = _cluster(h, h.obs["cell_type"].nunique() + 2)
    assert _best_jaccard(lab, hi) < 0.4
    assert (h.obs.loc[hi, "cell_type"] == "type0").all()  # embedded in the host type


def test_hardest_is_learnable_from_expression():
    """The hardest program does not cluster but a supervised model can see it."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import cross_val_predict

    h = simulate_sc_cohort(12, 100, 400, setting="hardest", seed=2, n_batches=1)
    host = (h.obs["cell_type"] == "type0").to_numpy()
    x = np.log1p(h.X[host].toarray())
    y = h.obs["risk_cell"].to_numpy()[host]
    p = cross_val_predict(
        LogisticRegression(C=0.1, max_iter=300), x, y, cv=3, method="predict_proba"
    )[:, 1]
    assert roc_auc_score(y, p) > 0.9
    assert h.var["program_higher"].sum() == 20  # 5 % cap of 400 genes


def test_h5ad_round_trip_and_streaming(tmp_path):
    import anndata as ad

    a = simulate_sc_cohort(6, 80, 100, setting="substate", seed=3)
    a.write_h5ad(tmp_path / "a.h5ad")
    b = ad.read_h5ad(tmp_path / "a.h5ad")
    pd.testing.assert_frame_equal(a.uns["patients"], b.uns["patients"])
    assert b.uns["simulated"] and b.uns["simulation"]["seed"] == 3
    s = simulate_sc_cohort(6, 80, 100, setting="substate", seed=3, write_h5ad=tmp_path / "s.h5ad")
    assert s.isbacked
    m = s.to_memory()
    s.file.close()
    assert (m.X != a.X).nnz == 0
    pd.testing.assert_frame_equal(m.obs, a.obs)
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))
    z = simulate_sc_cohort(
        6, 80, 100, setting="substate", seed=3, write_h5ad=tmp_path / "z.h5ad", compression="lzf"
    )
    assert (z.to_memory().X != a.X).nnz == 0
    z.file.close()
    assert (tmp_path / "z.h5ad").stat().st_mode & 0o044  # readable by others (umask)


@pytest.mark.parametrize(
    "kw",
    [
        {"setting": "nope"},
        {"risk_fraction": 0.6},
        {"n_patients": 1},
        {"censoring_rate": 1.0},
        {"survival": "cox"},
    ],
)
def test_bad_parameters(kw):
    with pytest.raises(ValueError):
        simulate_sc_cohort(**{"n_patients": 5, "cells_per_patient": 10, "n_genes": 60, **kw})


def test_settings_listed():
    assert SC_SETTINGS == ("distinct", "substate", "hardest")
