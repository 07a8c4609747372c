"""Tests of the single-cell survival cohorts (survlib.data.sc)."""

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
        "patient_id", "time", "event", "true_risk", "frac_higher", "frac_lower", "batch",
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
    b = simulate_sc_cohort(50, 40, 60, seed=1, cells_per_patient_sd=0.0, censoring_rate=0.0,
                           max_follow_up=None)
    assert b.uns["patients"]["n_cells"].nunique() == 1 and b.uns["patients"]["event"].all()


def test_ordered_survival_is_the_authors_design():
    """survival="ordered": death at the risk rank, censored patients before their death."""
    a = simulate_sc_cohort(200, 30, 60, setting="substate", seed=4, survival="ordered",
                           censoring_rate=0.1)
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
    p = cross_val_predict(LogisticRegression(C=0.1, max_iter=300), x, y, cv=3,
                          method="predict_proba")[:, 1]
    assert roc_auc_score(y, p) > 0.9
    assert h.var["program_higher"].sum() == 20  # 5 % cap of 400 genes


def test_h5ad_round_trip_and_streaming(tmp_path):
    import anndata as ad

    a = simulate_sc_cohort(6, 80, 100, setting="substate", seed=3)
    a.write_h5ad(tmp_path / "a.h5ad")
    b = ad.read_h5ad(tmp_path / "a.h5ad")
    pd.testing.assert_frame_equal(a.uns["patients"], b.uns["patients"])
    assert b.uns["simulated"] and b.uns["simulation"]["seed"] == 3
    s = simulate_sc_cohort(6, 80, 100, setting="substate", seed=3,
                           write_h5ad=tmp_path / "s.h5ad")
    assert s.isbacked
    m = s.to_memory()
    s.file.close()
    assert (m.X != a.X).nnz == 0
    pd.testing.assert_frame_equal(m.obs, a.obs)
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))
    z = simulate_sc_cohort(6, 80, 100, setting="substate", seed=3,
                           write_h5ad=tmp_path / "z.h5ad", compression="lzf")
    assert (z.to_memory().X != a.X).nnz == 0
    z.file.close()
    assert (tmp_path / "z.h5ad").stat().st_mode & 0o044  # readable by others (umask)


@pytest.mark.parametrize("kw", [
    {"setting": "nope"}, {"risk_fraction": 0.6}, {"n_patients": 1}, {"censoring_rate": 1.0},
    {"survival": "cox"},
])
def test_bad_parameters(kw):
    with pytest.raises(ValueError):
        simulate_sc_cohort(**{"n_patients": 5, "cells_per_patient": 10, "n_genes": 60, **kw})


def test_settings_listed():
    assert SC_SETTINGS == ("distinct", "substate", "hardest")


# ---------------------------------------------------------------------------- semi-synthetic


@pytest.fixture(scope="module")
def pbmc():
    from survlib.data.sc import semi_synthetic_pbmc_cohort

    return semi_synthetic_pbmc_cohort(n_patients=30, cells_per_patient=100, seed=0)


def test_pbmc_counts_are_counts():
    from survlib.data.sc import pbmc68k_counts

    p = pbmc68k_counts()
    assert p.shape == (700, 765)
    assert p.X.min() >= 0 and np.all(p.X.data == np.round(p.X.data)) and p.X.data.max() > 50


def test_semi_synthetic_schema(pbmc):
    a = pbmc
    assert a.uns["semi_synthetic"] is True and a.uns["simulated"] is True
    for c in OBS_COLUMNS:
        assert c in a.obs.columns
    hi = a.obs["risk_cell"].to_numpy()
    assert (a.obs.loc[hi, "cell_type"] == "CD14+ Monocyte").all()
    assert (a.obs.loc[~hi, "cell_type"] != "CD14+ Monocyte").all()
    pt = a.uns["patients"]
    assert pt["frac_higher"].std() > 0.03
    assert np.corrcoef(pt["frac_higher"], pt["true_risk"])[0, 1] > 0.99
    validate_sc_cohort(a, batch_key="batch", expect="counts")
    b = __import__("survlib.data.sc", fromlist=["x"]).semi_synthetic_pbmc_cohort(
        n_patients=30, cells_per_patient=100, seed=0)
    assert (a.X != b.X).nnz == 0  # deterministic


def test_semi_synthetic_lower_type_and_bad_type():
    from survlib.data.sc import semi_synthetic_pbmc_cohort

    a = semi_synthetic_pbmc_cohort(10, 50, risk_cell_type="3", label_key="louvain",
                                   lower_risk_cell_type="0", seed=1)
    assert set(a.obs.loc[a.obs["risk_group"] == "lower", "louvain"]) == {"0"}
    with pytest.raises(ValueError, match="not a value"):
        semi_synthetic_pbmc_cohort(5, 20, risk_cell_type="Martian cell")


# ---------------------------------------------------------------------------- validation

from survlib.data.sc import check_same_genes, validate_sc_cohort  # noqa: E402


@pytest.fixture()
def tiny():
    return simulate_sc_cohort(6, 30, 60, setting="distinct", seed=4)


def test_validate_returns_patient_table(tiny):
    t = validate_sc_cohort(tiny, "patient_id", "time", "event", "batch", expect="counts")
    assert len(t) == 6 and list(t.columns) == ["time", "event", "n_cells", "batch"]
    assert t["n_cells"].sum() == tiny.n_obs
    pt = tiny.uns["patients"].set_index("patient_id")
    np.testing.assert_allclose(t["time"], pt.loc[t.index, "time"])


def test_validate_missing_column(tiny):
    with pytest.raises(KeyError, match="survival_months"):
        validate_sc_cohort(tiny, "patient_id", "survival_months", "event")
    with pytest.raises(KeyError, match="sample"):
        validate_sc_cohort(tiny, "patient_id", "time", "event", batch_key="sample")


@pytest.mark.parametrize(
    "value, match",
    [("soon", "numeric"), (np.nan, "NaN"), (-1.0, "negative"), (np.inf, "NaN or infinite")],
)
def test_validate_bad_times(tiny, value, match):
    a = tiny.copy()
    t = a.obs["time"].astype(object)
    t[a.obs["patient_id"] == "P0002"] = value
    a.obs["time"] = t
    with pytest.raises(ValueError, match=match) as err:
        validate_sc_cohort(a)
    assert "P0002" in str(err.value)


@pytest.mark.parametrize("value", [2, -1, np.nan])
def test_validate_bad_events(tiny, value):
    a = tiny.copy()
    e = a.obs["event"].astype(float)
    e[a.obs["patient_id"] == "P0001"] = value
    a.obs["event"] = e
    with pytest.raises(ValueError, match="0/1") as err:
        validate_sc_cohort(a)
    assert "P0001" in str(err.value)


def test_validate_event_as_bool_and_no_events(tiny):
    a = tiny.copy()
    a.obs["event"] = a.obs["event"].astype(bool)
    validate_sc_cohort(a)
    a.obs["event"] = False
    with pytest.raises(ValueError, match="no observed events"):
        validate_sc_cohort(a)
    assert len(validate_sc_cohort(a, require_events=False)) == 6


def test_validate_not_constant_within_patient(tiny):
    a = tiny.copy()
    first = np.flatnonzero(a.obs["patient_id"] == "P0003")[0]
    a.obs.iloc[first, a.obs.columns.get_loc("time")] += 1.0
    with pytest.raises(ValueError, match="constant within a patient.*P0003"):
        validate_sc_cohort(a)
    b = tiny.copy()
    ev = b.obs["event"].to_numpy().copy()
    rows = np.flatnonzero(b.obs["patient_id"] == "P0004")
    ev[rows[0]] = 1 - ev[rows[0]]
    b.obs["event"] = ev
    with pytest.raises(ValueError, match="event.*P0004"):
        validate_sc_cohort(b)


def test_validate_patient_without_cells(tiny):
    a = tiny.copy()
    a.obs["patient_id"] = a.obs["patient_id"].cat.add_categories(["P9999"])
    with pytest.raises(ValueError, match="no cells.*P9999"):
        validate_sc_cohort(a)
    b = tiny.copy()
    pid = b.obs["patient_id"].astype(object)
    pid.iloc[3] = None
    b.obs["patient_id"] = pid
    with pytest.raises(ValueError, match="missing for cells"):
        validate_sc_cohort(b)


def test_validate_empty_and_missing_batch(tiny):
    with pytest.raises(ValueError, match="no cells"):
        validate_sc_cohort(tiny[:0])
    a = tiny.copy()
    b = a.obs["batch"].astype(object)
    b.iloc[0] = None
    a.obs["batch"] = b
    with pytest.raises(ValueError, match="batch.*missing"):
        validate_sc_cohort(a, batch_key="batch")


def test_validate_matrix_checks(tiny):
    a = tiny.copy()
    a.X = a.X.copy()
    a.X.data[0] = -3.0
    with pytest.raises(ValueError, match="negative"):
        validate_sc_cohort(a, expect="counts")
    b = tiny.copy()
    b.X = b.X.copy()
    b.X.data[0] = 0.5
    with pytest.raises(ValueError, match="raw counts"):
        validate_sc_cohort(b, expect="counts")
    with pytest.raises(ValueError, match="looks like raw counts"):
        big = tiny.copy()
        big.X = big.X.copy()
        big.X.data[0] = 100.0
        validate_sc_cohort(big, expect="lognorm")
    c = tiny.copy()
    c.layers["counts"] = c.X.copy()
    c.X = c.X.copy()
    c.X.data = np.log1p(c.X.data) + 0.01
    validate_sc_cohort(c, expect="lognorm")
    validate_sc_cohort(c, expect="counts", layer="counts")
    with pytest.raises(KeyError, match="raw"):
        validate_sc_cohort(c, expect="counts", layer="raw")


def test_check_same_genes():
    fit = ["a", "b", "c"]
    np.testing.assert_array_equal(check_same_genes(fit, ["a", "b", "c"]), [0, 1, 2])
    np.testing.assert_array_equal(check_same_genes(fit, ["c", "a", "b"]), [1, 2, 0])
    with pytest.raises(ValueError, match="different order"):
        check_same_genes(fit, ["c", "a", "b"], allow_reorder=False)
    with pytest.raises(ValueError, match=r"missing from the new data: \[c\].*extra.*\[d\]"):
        check_same_genes(fit, ["a", "b", "d"])
    with pytest.raises(ValueError, match="duplicated"):
        check_same_genes(fit, ["a", "b", "c", "c"])


def test_zinb_sampler_matches_the_distribution():
    """Known answer: the inverse-CDF sampler reproduces the ZINB pmf (scipy's nbinom)."""
    from scipy.stats import nbinom

    from survlib.data.sc import _zinb_chunk

    mus = np.array([0.05, 0.8, 3.0, 9.0, 25.0], dtype=np.float32)  # last one: gamma-Poisson path
    r = np.array([5.0, 2.0, 1.2, 4.0, 3.0])
    pi = np.array([0.3, 0.2, 0.1, 0.05, 0.02], dtype=np.float32)
    f0 = (pi + (1 - pi) * (1 + mus / r) ** (-r)).astype(np.float32)
    n = 40_000
    x = _zinb_chunk(np.random.default_rng(0), np.zeros(n, dtype=np.int64), mus[None, :],
                    f0[None, :], pi[None, :], r).toarray()
    for g in range(len(mus)):
        dist = nbinom(r[g], r[g] / (r[g] + mus[g]))
        for k in range(4):
            expected = pi[g] * (k == 0) + (1 - pi[g]) * dist.pmf(k)
            se = np.sqrt(expected * (1 - expected) / n)
            assert abs((x[:, g] == k).mean() - expected) < 5 * se + 1e-4, (g, k)
        mean = (1 - pi[g]) * mus[g]
        assert abs(x[:, g].mean() - mean) < 0.05 * mean + 0.005
