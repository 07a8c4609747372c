"""scSurvival (survlib.models.sc): the math, the masks, the AnnData API and every bad input.

Everything runs on tiny simulated cohorts (survlib.data.simulate_sc_cohort) on the CPU; the
whole file takes well under a minute.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

from survlib.data.sc import simulate_sc_cohort
from survlib.models.sc import (
    AMICR,
    ScSurvival,
    attention_entropy,
    batch_mixing,
    benchmark_run,
    entropy_penalty,
    linear_fit,
    masked_softmax,
    neighbour_mean,
    risk_cell_metrics,
    two_means_threshold,
    zig_nll,
)
from survlib.survival import concordance

# a small, quick configuration for unit tests (not a good model: just the mechanics)
TINY = dict(
    n_latent=8, n_hidden=32, n_heads=2, head_dim=8, proj_dim=4, hazard_hidden=8,
    pretrain_steps=40, cell_batch_size=64, amicr_steps=15, finetune_steps=4,
    patient_batch_size=8, cells_per_patient=16, eval_every=5,
)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _cohort(n_patients: int = 16, cells: int = 24, genes: int = 60, seed: int = 0, **kw):
    return simulate_sc_cohort(n_patients, cells, genes, "distinct", seed, **kw)


@pytest.fixture(scope="module")
def trained():
    adata = _cohort()
    ScSurvival.setup_anndata(adata)
    model = ScSurvival(adata, **TINY).train(progress=False, seed=0)
    return model, adata


# ----------------------------------------------------------------------------- the math


def test_zig_nll_matches_the_formula():
    x = torch.tensor([[0.0, 1.5]])
    mean = torch.tensor([[0.5, 1.0]])
    logvar = torch.tensor([0.0, np.log(0.25)], dtype=torch.float32)
    pi_logit = torch.tensor([[0.0, -1.0]])
    pi = torch.sigmoid(pi_logit)
    normal = torch.distributions.Normal(mean, torch.exp(0.5 * logvar))
    expected = -(
        torch.log(pi[0, 0] + (1 - pi[0, 0]) * normal.log_prob(x).exp()[0, 0])
        + torch.log(1 - pi[0, 1]) + normal.log_prob(x)[0, 1]
    )
    assert torch.allclose(zig_nll(x, mean, logvar, pi_logit), expected.reshape(1), atol=1e-5)


def test_entropy_penalty_sign_and_threshold():
    mask = torch.ones(1, 100, dtype=torch.bool)
    uniform = torch.full((1, 100, 1), 1 / 100)
    onehot = torch.zeros(1, 100, 1)
    onehot[0, 0, 0] = 1.0
    assert attention_entropy(uniform, mask).item() == pytest.approx(1.0, abs=1e-5)
    assert attention_entropy(onehot, mask).item() == pytest.approx(0.0, abs=1e-5)
    # penalty: zero below the threshold, then growing with the entropy
    ents = torch.linspace(0, 1, 11)
    pens = torch.stack([entropy_penalty(e.reshape(1), 0.7) for e in ents])
    assert torch.all(pens[ents <= 0.7] == 0)
    assert torch.all(pens[ents > 0.7] > 0)
    assert torch.all(pens[1:] >= pens[:-1])
    # and its gradient pushes entropy down when attention is too flat
    logits = torch.zeros(1, 100, 1, requires_grad=True)
    pen = entropy_penalty(attention_entropy(masked_softmax(logits, mask), mask), 0.7)
    pen.backward()
    assert pen.item() > 0


def test_padding_never_changes_a_patients_risk():
    torch.manual_seed(0)
    net = AMICR(6, n_heads=3, head_dim=4, proj_dim=3, n_hidden=5).eval()
    z = torch.randn(2, 7, 6)
    mask = torch.tensor([[1] * 7, [1] * 4 + [0] * 3], dtype=torch.bool)
    risk, w = net(z, mask)
    # garbage in the padding, and extra padding columns
    z2 = torch.cat([z, 100 * torch.randn(2, 5, 6)], dim=1)
    z2[1, 4:] = 1e3 * torch.randn(8, 6)
    mask2 = torch.cat([mask, torch.zeros(2, 5, dtype=torch.bool)], dim=1)
    risk2, w2 = net(z2, mask2)
    assert torch.allclose(risk, risk2, atol=1e-5)
    assert torch.all(w2[~mask2] == 0)
    assert torch.allclose(w2.sum(1), torch.ones(2, 3), atol=1e-5)
    # the second patient alone (no padding at all) gives the same risk
    risk_alone, _ = net(z[1:, :4], torch.ones(1, 4, dtype=torch.bool))
    assert torch.allclose(risk_alone, risk[1:], atol=1e-5)


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


# ----------------------------------------------------------------------------- the API


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
    first = (adata.obs["patient_id"].astype(str) == adata.obs["patient_id"].astype(str).iloc[0]).to_numpy()
    with torch.no_grad():
        logits = model.amicr.attention(z[first]).unsqueeze(0)
        w = masked_softmax(logits, torch.ones(1, int(first.sum()), dtype=torch.bool))[0, :, 0]
    att = adata.obs["attention"].to_numpy()[first]
    assert np.array_equal(np.argsort(w.numpy(), kind="stable"), np.argsort(att, kind="stable"))


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


def test_linear_head_risk_is_the_attention_weighted_mean_of_cell_hazards():
    """With a linear hazard head (``hazard_hidden=0``, one head), a patient's risk decomposes exactly
    into its cells: f(sum_i a_i P z_i) = sum_i a_i f(P z_i)."""
    amicr = AMICR(6, n_heads=1, head_dim=4, proj_dim=3, n_hidden=0, dropout=0.0).eval()
    with torch.no_grad():
        amicr.norm.running_mean.normal_()
        amicr.norm.running_var.uniform_(0.5, 2.0)
        z = torch.randn(2, 7, 6)
        mask = torch.ones(2, 7, dtype=torch.bool)
        mask[1, 5:] = False
        risk, w = amicr(z, mask)
        cell = amicr.raw_cell_hazard(z.reshape(-1, 6)).reshape(2, 7)
        expected = (w[..., 0] * cell).sum(1)
    torch.testing.assert_close(risk, expected, atol=1e-5, rtol=1e-5)


def test_predict_on_new_patients_and_gene_checks(trained):
    model, _ = trained
    new = _cohort(n_patients=5, seed=7)
    new.obs["patient_id"] = new.obs["patient_id"].cat.rename_categories(lambda p: "new_" + p)
    new.obs = new.obs.drop(columns=["time", "event"])  # unseen patients need no outcome
    risk = model.predict_risk(new)
    assert len(risk) == 5 and all(p.startswith("new_") for p in risk.index)
    # same genes in another order: same answer
    shuffled = new[:, np.random.default_rng(0).permutation(new.n_vars)].copy()
    np.testing.assert_allclose(model.predict_risk(shuffled)["risk"], risk["risk"], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="genes differ"):
        model.predict_risk(new[:, :-3].copy())


def test_identify_risk_cells_writes_groups(trained):
    model, adata = trained
    groups = model.identify_risk_cells(adata)
    assert set(groups.unique()) <= {"higher", "lower", "neutral"}
    assert (adata.obs["predicted_risk_cell"] == (adata.obs["predicted_risk_group"] == "higher")).all()
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
    model.identify_risk_cells(adata, smooth_neighbors=1)
    assert np.abs(adata.obs["hazard_score"].to_numpy()[adata.obs["predicted_risk_group"].to_numpy() != "neutral"]).min() >= model.risk_threshold_
    model.identify_risk_cells(adata, rule="authors")
    assert 0 <= model.risk_threshold_ <= 1
    with pytest.raises(ValueError, match="rule"):
        model.identify_risk_cells(adata, rule="vibes")


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
        train, n_latent=8, n_hidden=64, pretrain_steps=300, cell_batch_size=64, amicr_steps=200,
        finetune_steps=0,
    ).train(progress=False, seed=0)
    model.predict_risk(train)
    hz = train.obs["hazard_score"].to_numpy()
    is_risk = train.obs["risk_cell"].to_numpy()
    assert hz[is_risk].mean() > hz[~is_risk].mean()
    risk = model.predict_risk(test)
    truth = test.obs.groupby(test.obs["patient_id"].astype(str), observed=True)[["time", "event"]].first()
    c = concordance(risk["risk"].to_numpy(), truth.loc[risk.index, "time"], truth.loc[risk.index, "event"])
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
    model = ScSurvival(adata, feature_flavor="pca", n_pcs=5, **{k: v for k, v in TINY.items() if k != "n_latent"})
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
    col = small.obs[column].astype(object) if isinstance(values, str) else small.obs[column].astype(float)
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


# ----------------------------------------------------------------------------- helpers


def test_batch_mixing_and_linear_fit():
    rng = np.random.default_rng(0)
    batch = np.repeat(["a", "b"], 100)
    separated = np.r_[rng.normal(0, 1, (100, 2)), rng.normal(50, 1, (100, 2))]
    mixed = rng.normal(0, 1, (200, 2))
    assert batch_mixing(separated, batch) < 0.05
    assert batch_mixing(mixed, batch) > 0.8
    fit = linear_fit([1, 2, 3, 4], [3, 5, 7, 9])
    assert fit["slope"] == pytest.approx(2) and fit["intercept"] == pytest.approx(1) and fit["r2"] == pytest.approx(1)


def test_benchmark_run_reports_every_stage(tmp_path):
    res = benchmark_run(8, 20, 60, setting="distinct", workdir=str(tmp_path), **{k: v for k, v in TINY.items()
                        if k in ("pretrain_steps", "amicr_steps", "finetune_steps", "n_latent", "n_hidden")})
    assert {"simulate", "load", "setup", "checks", "pretrain", "amicr", "finetune", "predict", "identify"} <= set(res["stages"])
    assert all(v["seconds"] >= 0 and v["peak_rss_mb"] > 0 for v in res["stages"].values())
    assert res["cells_per_second"] > 0 and res["device"] == "cpu"
    assert not list(tmp_path.glob("*.h5ad"))  # the temporary cohort file is removed


def test_authors_per_head_hazard_score_equals_hand_computation():
    """form="authors": f([sigmoid(s_ih) P_h z_i]_h), every step written out from the weights."""
    torch.manual_seed(0)
    net = AMICR(6, n_heads=4, head_dim=5, proj_dim=3, n_hidden=7, dropout=0.0)
    net.norm.running_mean.normal_()  # non-trivial batch-norm statistics
    net.norm.running_var.uniform_(0.5, 2.0)
    net.eval()
    z = torch.randn(11, 6)
    with torch.no_grad():
        got = net.cell_scores(z, form="authors")
        ours = net.cell_scores(z)
        att = net.attention
        g = torch.tanh(z @ att.V.weight.T) * torch.sigmoid(z @ att.U.weight.T)  # [N, H * hd]
        s = (g.view(11, 4, 5) * att.w).sum(-1)  # s_ih
        gated = torch.sigmoid(s).unsqueeze(-1) * (z @ net.projector.weight.T
                                                  + net.projector.bias).view(11, 4, 3)
        bn = net.norm
        x = (gated.reshape(11, 12) - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps)
        x = x * bn.weight + bn.bias
        lin1, lin2 = net.hazard[1], net.hazard[4]
        hand = (torch.relu(x @ lin1.weight.T + lin1.bias) @ lin2.weight.T + lin2.bias)[:, 0]
    torch.testing.assert_close(got["hazard_score"], hand, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got["attention"], torch.sigmoid(s).max(-1).values)
    # with four heads and an MLP f the two forms are different scores
    assert not torch.allclose(got["hazard_score"], ours["hazard_score"], atol=1e-3)
    with pytest.raises(ValueError, match="form"):
        net.cell_scores(z, form="vibes")


def test_per_head_form_reduces_to_ours_for_one_head_and_linear_f():
    """One head and a linear f: f(a P z) = a f(P z) + (1 - a) f(0), the docstring's claim."""
    torch.manual_seed(1)
    net = AMICR(6, n_heads=1, head_dim=5, proj_dim=3, n_hidden=0, dropout=0.0).eval()
    z = torch.randn(9, 6)
    with torch.no_grad():
        authors = net.cell_scores(z, form="authors")["hazard_score"]
        a = net.cell_scores(z)["attention"]
        f0 = net.hazard(torch.zeros(1, 3))[0, 0]
        ours = net.cell_scores(z, reference=f0)["hazard_score"]  # a * (f(Pz) - f(0))
    torch.testing.assert_close(authors, ours + f0, atol=1e-5, rtol=1e-5)
    assert torch.allclose(a, torch.sigmoid(net.attention(z))[:, 0])


def test_identify_risk_cells_with_the_authors_hazard_form(trained):
    model, adata = trained
    model.identify_risk_cells(adata, hazard_form="authors", smooth_neighbors=1)
    hz = adata.obs["hazard_score_authors"].to_numpy()
    z = torch.tensor(adata.obsm["X_zigvae"][:40])
    with torch.no_grad():
        ref = model.amicr.cell_scores(z, form="authors")["hazard_score"].numpy()
    np.testing.assert_allclose(hz[:40], ref, rtol=1e-5, atol=1e-6)
    groups = adata.obs["predicted_risk_group"].to_numpy()
    assert (hz[groups == "higher"] > 0).all() and (hz[groups == "lower"] <= 0).all()
    with pytest.raises(ValueError, match="hazard_form"):
        model.identify_risk_cells(adata, hazard_form="vibes")
