"""survlib.models.sc.model: ScSurvival's AnnData API (setup_anndata -> train -> predict_risk,
results written to obs / obsm), new patients and genes, backed files, covariates, PCA features,
and every bad input of setup_anndata and the options.

Everything runs on tiny simulated cohorts (survlib.data.simulate_sc_cohort) on the CPU.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from survlib.models.blocks import masked_softmax
from survlib.models.sc import ScSurvival
from survlib.survival import concordance
from tests.models.sc.helpers import TINY
from tests.models.sc.helpers import cohort as _cohort

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def trained():
    adata = _cohort()
    ScSurvival.setup_anndata(adata)
    model = ScSurvival(adata, **TINY).train(progress=False, seed=0)
    return model, adata


def test_results_written_back_and_consistent(trained):
    model, adata = trained
    risk = model.predict_risk(adata)
    assert list(risk.index) == sorted(adata.obs["patient_id"].astype(str).unique())
    assert np.isfinite(risk["risk"]).all()
    assert adata.obsm["X_zigvae"].shape == (adata.n_obs, 8)
    att = adata.obs["attention"].to_numpy()
    assert ((att >= 0) & (att <= 1)).all()
    # the attention-adjusted hazard is the attention times the cell's hazard
    np.testing.assert_allclose(
        adata.obs["hazard_score"], att * adata.obs["cell_hazard"], rtol=1e-5, atol=1e-6
    )
    # per-cell scores reproduce from the model's math on the stored embeddings
    z = torch.tensor(adata.obsm["X_zigvae"][:50])
    with torch.no_grad():
        scores = model.amicr.cell_scores(z)
    np.testing.assert_allclose(scores["attention"].numpy(), att[:50], rtol=1e-4, atol=1e-6)
    assert model.device == torch.device("cpu")


def test_single_head_attention_orders_cells_like_the_pooling_weights():
    adata = _cohort(n_patients=10, cells=20)
    ScSurvival.setup_anndata(adata)
    model = ScSurvival(adata, **{**TINY, "n_heads": 1}).train(progress=False)
    model.predict_risk(adata)
    z = torch.tensor(adata.obsm["X_zigvae"])
    first = (
        adata.obs["patient_id"].astype(str) == adata.obs["patient_id"].astype(str).iloc[0]
    ).to_numpy()
    with torch.no_grad():
        logits = model.amicr.attention(z[first]).unsqueeze(0)
        w = masked_softmax(logits, torch.ones(1, int(first.sum()), 1, dtype=torch.bool), dim=1)[
            0, :, 0
        ]
    att = adata.obs["attention"].to_numpy()[first]
    assert np.array_equal(np.argsort(w.numpy(), kind="stable"), np.argsort(att, kind="stable"))


def test_predict_on_new_patients_and_gene_checks(trained):
    model, _ = trained
    new = _cohort(n_patients=5, seed=7)
    new.obs["patient_id"] = new.obs["patient_id"].cat.rename_categories(lambda p: "new_" + p)
    new.obs = new.obs.drop(columns=["time", "event"])  # unseen patients need no outcome
    risk = model.predict_risk(new)
    assert len(risk) == 5 and all(p.startswith("new_") for p in risk.index)
    # same genes in another order: same answer
    shuffled = new[:, np.random.default_rng(0).permutation(new.n_vars)].copy()
    np.testing.assert_allclose(
        model.predict_risk(shuffled)["risk"], risk["risk"], rtol=1e-4, atol=1e-5
    )
    with pytest.raises(ValueError, match="genes differ"):
        model.predict_risk(new[:, :-3].copy())


def test_planted_signal_is_recovered_at_small_scale():
    # distinct risk clusters, strong effect; the model is trained on 36 patients and
    # ranks 12 unseen ones
    adata = _cohort(n_patients=64, cells=30, genes=60, seed=3, effect_size=6.0, censoring_rate=0.1)
    pid = adata.obs["patient_id"].astype(str)
    test_ids = sorted(pid.unique())[::4]
    train = adata[~pid.isin(test_ids).to_numpy()].copy()
    test = adata[pid.isin(test_ids).to_numpy()].copy()
    train.obs["patient_id"] = train.obs["patient_id"].cat.remove_unused_categories()
    test.obs["patient_id"] = test.obs["patient_id"].cat.remove_unused_categories()
    ScSurvival.setup_anndata(train)
    model = ScSurvival(
        train,
        n_latent=8,
        n_hidden=64,
        pretrain_steps=300,
        cell_batch_size=64,
        amicr_steps=200,
        finetune_steps=0,
    ).train(progress=False, seed=0)
    model.predict_risk(train)
    hz = train.obs["hazard_score"].to_numpy()
    is_risk = train.obs["risk_cell"].to_numpy()
    assert hz[is_risk].mean() > hz[~is_risk].mean()
    risk = model.predict_risk(test)
    truth = test.obs.groupby(test.obs["patient_id"].astype(str), observed=True)[
        ["time", "event"]
    ].first()
    c = concordance(
        risk["risk"].to_numpy(), truth.loc[risk.index, "time"], truth.loc[risk.index, "event"]
    )
    assert c > 0.6


def test_backed_h5ad_streams(tmp_path):
    adata = _cohort(n_patients=8, cells=20, write_h5ad=tmp_path / "cohort.h5ad")
    assert adata.isbacked
    ScSurvival.setup_anndata(adata)
    model = ScSurvival(adata, **{**TINY, "stream_block_cells": 32}).train(progress=False)
    risk = model.predict_risk(adata)
    assert len(risk) == 8 and adata.obs["attention"].notna().all()
    adata.file.close()


def test_covariates_enter_the_hazard_and_are_reported():
    adata = _cohort(n_patients=20, covariate_effect=0.5)
    ScSurvival.setup_anndata(adata, covariate_keys=["age"])
    model = ScSurvival(adata, **TINY).train(progress=False)
    summary = model.covariate_summary_
    assert summary is not None and {"age", "scsurvival_risk"} <= set(summary.index)
    assert {"coef", "p"} <= set(summary.columns)
    assert model.amicr.covariate is not None


def test_pca_flavour_is_the_mil_without_vae():
    adata = _cohort(n_patients=10)
    ScSurvival.setup_anndata(adata)
    model = ScSurvival(
        adata, feature_flavor="pca", n_pcs=5, **{k: v for k, v in TINY.items() if k != "n_latent"}
    )
    model.train(progress=False)
    assert model.predict_risk(adata)["risk"].notna().all()
    assert adata.obsm["X_pca_features"].shape[1] == 5


# ----------------------------------------------------------------------------- bad input


@pytest.fixture()
def small():
    return _cohort(n_patients=6, cells=10)


def test_missing_obs_column(small):
    del small.obs["time"]
    with pytest.raises(KeyError, match="time"):
        ScSurvival.setup_anndata(small)


@pytest.mark.parametrize(
    "column, values, message",
    [
        ("time", "abc", "numeric"),
        ("time", -1.0, "negative"),
        ("time", np.nan, "NaN"),
        ("event", 2, "0/1"),
    ],
)
def test_bad_survival_values(small, column, values, message):
    first = small.obs["patient_id"] == small.obs["patient_id"].iloc[0]
    col = (
        small.obs[column].astype(object)
        if isinstance(values, str)
        else small.obs[column].astype(float)
    )
    col[first.to_numpy()] = values
    small.obs[column] = col
    with pytest.raises(ValueError, match=message):
        ScSurvival.setup_anndata(small)


def test_patient_with_no_cells(small):
    small.obs["patient_id"] = small.obs["patient_id"].cat.add_categories(["ghost"])
    with pytest.raises(ValueError, match="no cells"):
        ScSurvival.setup_anndata(small)


def test_negative_counts(small):
    X = small.X.toarray()
    X[3, 2] = -1
    small.X = sp.csr_matrix(X)
    with pytest.raises(ValueError, match="negative"):
        ScSurvival.setup_anndata(small)


def test_log_normalised_input_passed_as_counts(small):
    small.X = sp.csr_matrix(np.log1p(small.X.toarray()) * 0.37)
    with pytest.raises(ValueError, match="integer|counts"):
        ScSurvival.setup_anndata(small)


def test_nan_in_expression(small):
    X = small.X.toarray()
    X[1, 1] = np.nan
    small.X = sp.csr_matrix(X)
    with pytest.raises(ValueError, match="NaN|non-integer|integer"):
        ScSurvival.setup_anndata(small)


def test_covariate_varying_within_patient(small):
    small.obs["age"] = np.arange(small.n_obs, dtype=float)
    with pytest.raises(ValueError, match="varies within patient"):
        ScSurvival.setup_anndata(small, covariate_keys=["age"])


def test_unknown_options_and_missing_setup(small):
    with pytest.raises(ValueError, match="setup_anndata"):
        ScSurvival(small)
    ScSurvival.setup_anndata(small)
    with pytest.raises(TypeError, match="unknown ScSurvival option"):
        ScSurvival(small, n_latnet=4)
    with pytest.raises(ValueError, match="unknown preset"):
        ScSurvival(small, preset="slow")
    model = ScSurvival(small, **TINY)
    with pytest.raises(TypeError, match="unknown train option"):
        model.train(progress=False, epochz=3)
    with pytest.raises(RuntimeError, match="train the model first"):
        model.predict_risk(small)
