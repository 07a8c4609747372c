"""Tests of the patient-level single-cell baselines (survlib.models.sc_baselines)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survlib.data.sc import simulate_sc_cohort
from survlib.models.sc_baselines import (
    CellTypeProportionCox,
    PseudobulkCox,
    patient_mean_expression,
)
from survlib.survival import concordance


@pytest.fixture(scope="module")
def split():
    a = simulate_sc_cohort(80, 60, 300, setting="distinct", seed=0)
    pt = a.uns["patients"].set_index("patient_id")
    train_ids = pt.index[:50]
    train = a[a.obs["patient_id"].isin(train_ids)].copy()
    test = a[~a.obs["patient_id"].isin(train_ids)].copy()
    return a, pt, train, test


@pytest.mark.parametrize("model", [PseudobulkCox(n_components=5), CellTypeProportionCox()])
def test_beats_chance_on_held_out_patients(split, model):
    _, pt, train, test = split
    out = model.fit(train).predict_risk(test)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["risk"] and len(out) == 30
    risk = out["risk"]
    assert set(risk.index) == set(test.obs["patient_id"].astype(str))
    truth = pt.loc[risk.index]
    assert concordance(risk.to_numpy(), truth["time"].to_numpy(), truth["event"].to_numpy()) > 0.65


def test_pseudobulk_matches_direct_computation(split):
    a = split[0][:400].copy()
    pb = patient_mean_expression(a, chunk_cells=97)
    x = a.X.toarray()
    x = np.log1p(x / x.sum(1, keepdims=True) * 1e4)
    for pid in pb.index[:3]:
        rows = (a.obs["patient_id"] == pid).to_numpy()
        np.testing.assert_allclose(pb.loc[pid].to_numpy(), x[rows].mean(0), rtol=1e-6)
    a.X = a.X.copy()
    a.X.data = np.log1p(a.X.data) + 0.5  # not counts -> averaged as is
    pb2 = patient_mean_expression(a)
    rows = (a.obs["patient_id"] == pb2.index[0]).to_numpy()
    np.testing.assert_allclose(pb2.iloc[0].to_numpy(), a.X[rows].toarray().mean(0), rtol=1e-6)


def test_transforms_fitted_on_training_patients_only(split):
    _, _, train, test = split
    m = PseudobulkCox(n_components=5).fit(train)
    feats = patient_mean_expression(train)
    np.testing.assert_allclose(m.scaler_.mean_, feats.to_numpy().mean(0))
    assert m.scaler_.n_samples_seen_ == 50 and m.pca_.n_samples_ == 50
    before = (m.scaler_.mean_.copy(), m.pca_.components_.copy(), m.cox_.params_.copy())
    r1 = m.predict_risk(test)["risk"]
    np.testing.assert_array_equal(before[0], m.scaler_.mean_)
    np.testing.assert_array_equal(before[1], m.pca_.components_)
    pd.testing.assert_series_equal(before[2], m.cox_.params_)
    # a patient's risk does not depend on which other patients are scored with it
    some = test.obs["patient_id"].cat.categories[:5]
    r2 = m.predict_risk(test[test.obs["patient_id"].isin(some)].copy())["risk"]
    np.testing.assert_allclose(r2.to_numpy(), r1.loc[r2.index].to_numpy())
    c = CellTypeProportionCox().fit(train)
    assert c.scaler_.n_samples_seen_ == 50


def test_unseen_cell_type_and_gene_mismatch(split):
    _, _, train, test = split
    c = CellTypeProportionCox().fit(train)
    t = test.copy()
    t.obs["cell_type"] = t.obs["cell_type"].cat.add_categories(["novel"])
    t.obs.iloc[:5, t.obs.columns.get_loc("cell_type")] = "novel"
    assert np.isfinite(c.predict_risk(t)["risk"]).all()
    m = PseudobulkCox(n_components=3).fit(train)
    with pytest.raises(ValueError, match="genes differ"):
        m.predict_risk(test[:, 10:].copy())
    r = m.predict_risk(test[:, ::-1].copy())["risk"]  # reordered genes are fine
    np.testing.assert_allclose(r.to_numpy(), m.predict_risk(test)["risk"].to_numpy())


def test_errors(split):
    _, _, train, _ = split
    with pytest.raises(RuntimeError, match="not fitted"):
        PseudobulkCox().predict_risk(train)
    with pytest.raises(KeyError, match="months"):
        PseudobulkCox().fit(train, time_key="months")
    with pytest.raises(KeyError, match="celltype"):
        CellTypeProportionCox(cell_type_key="celltype").fit(train)
