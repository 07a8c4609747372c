"""Known-answer tests for survlib.survival.

Each test names its reference: a hand computation, lifelines, scikit-survival or torchsurv.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from survlib import survival as sv


# ------------------------------------------------------------------------------------------
# fixtures
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rossi() -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """lifelines' Rossi recidivism data (432 rows, weekly times: many ties), standardised."""
    from lifelines.datasets import load_rossi

    df = load_rossi()
    cols = [c for c in df.columns if c not in ("week", "arrest")]
    x = df[cols].to_numpy(dtype=np.float64)
    x = (x - x.mean(0)) / x.std(0)
    return x, df["week"].to_numpy(np.float64), df["arrest"].to_numpy(np.int64), cols


@pytest.fixture(scope="module")
def lifelines_cph(rossi):
    from lifelines import CoxPHFitter

    x, t, e, cols = rossi
    df = pd.DataFrame(x, columns=cols).assign(week=t, arrest=e)
    return CoxPHFitter(penalizer=0.0).fit(df, "week", "arrest")


def _simulated(n: int = 300, seed: int = 0):
    """Exponential times with a planted linear risk and uniform censoring (simulated)."""
    rng = np.random.default_rng(seed)
    risk = rng.normal(size=n)
    t_event = rng.exponential(30.0 * np.exp(-risk))
    t_cens = rng.uniform(0, 120, size=n)
    time = np.minimum(t_event, t_cens) + 0.1
    event = (t_event <= t_cens).astype(int)
    return risk, time, event


# ------------------------------------------------------------------------------------------
# Cox partial likelihood
# ------------------------------------------------------------------------------------------


def test_cox_hand_computed_no_ties():
    # exp(eta) = 1, 2, 1; deaths at t=1 (risk set all: 4) and t=2 (risk set {2,3}: 3)
    eta = torch.tensor([0.0, math.log(2.0), 0.0], dtype=torch.float64)
    loss = sv.cox_partial_likelihood(eta, [1.0, 2.0, 3.0], [1, 1, 0])
    expected = -((0 - math.log(4)) + (math.log(2) - math.log(3))) / 2
    assert loss.item() == pytest.approx(expected, abs=1e-12)
    # without ties Efron == Breslow
    assert sv.cox_partial_likelihood(eta, [1.0, 2.0, 3.0], [1, 1, 0], ties="breslow").item() == (
        pytest.approx(expected, abs=1e-12)
    )


def test_cox_hand_computed_ties():
    # two deaths tied at t=1 with exp(eta) = 1, 2; risk set sum D = 4, tied sum E = 3
    eta = torch.tensor([0.0, math.log(2.0), 0.0], dtype=torch.float64)
    time, event = [1.0, 1.0, 2.0], [1, 1, 0]
    breslow = -(math.log(2) - 2 * math.log(4)) / 2
    efron = -(math.log(2) - math.log(4) - math.log(4 - 0.5 * 3)) / 2
    assert sv.cox_partial_likelihood(eta, time, event, "breslow").item() == pytest.approx(breslow)
    assert sv.cox_partial_likelihood(eta, time, event, "efron").item() == pytest.approx(efron)


def test_cox_order_shape_and_gradient():
    rng = np.random.default_rng(1)
    eta = torch.tensor(rng.normal(size=40), requires_grad=True)
    time = torch.tensor(rng.integers(1, 8, size=40).astype(float))  # heavy ties
    event = torch.tensor(rng.integers(0, 2, size=40))
    loss = sv.cox_partial_likelihood(eta, time, event)
    perm = torch.randperm(40)
    loss_perm = sv.cox_partial_likelihood(eta.unsqueeze(1)[perm], time[perm], event[perm].bool())
    assert loss.item() == pytest.approx(loss_perm.item(), abs=1e-12)
    loss.backward()
    assert eta.grad is not None and torch.isfinite(eta.grad).all() and eta.grad.abs().sum() > 0
    # invariant to adding a constant to every log hazard, stable for large values
    shifted = sv.cox_partial_likelihood(eta.detach() + 500.0, time, event)
    assert shifted.item() == pytest.approx(loss.item(), abs=1e-9)


def test_cox_errors():
    eta = torch.zeros(3)
    with pytest.raises(ValueError, match="no observed events"):
        sv.cox_partial_likelihood(eta, [1.0, 2.0, 3.0], [0, 0, 0])
    with pytest.raises(ValueError, match="must match"):
        sv.cox_partial_likelihood(eta, [1.0, 2.0], [1, 0])
    with pytest.raises(ValueError, match="ties"):
        sv.cox_partial_likelihood(eta, [1.0, 2.0, 3.0], [1, 0, 1], ties="exact")
    with pytest.raises(ValueError, match="shape"):
        sv.cox_partial_likelihood(torch.zeros(3, 2), [1.0, 2.0, 3.0], [1, 0, 1])


def test_cox_matches_lifelines_log_likelihood(rossi, lifelines_cph):
    """At lifelines' estimate, -loss * n_events equals lifelines' (Efron) log-likelihood."""
    x, t, e, cols = rossi
    beta = lifelines_cph.params_[cols].to_numpy()
    eta = torch.tensor(x @ beta)
    loss = sv.cox_partial_likelihood(eta, t, e, ties="efron")
    assert -loss.item() * e.sum() == pytest.approx(lifelines_cph.log_likelihood_, abs=1e-6)


def test_linear_cox_reproduces_lifelines_coefficients(rossi, lifelines_cph):
    """Known answer: nn.Linear (no bias, float64) + LBFGS on the Efron loss == CoxPHFitter."""
    x, t, e, cols = rossi
    torch.manual_seed(0)
    model = torch.nn.Linear(x.shape[1], 1, bias=False).double()
    torch.nn.init.zeros_(model.weight)
    xt, tt, et = torch.tensor(x), torch.tensor(t), torch.tensor(e)
    opt = torch.optim.LBFGS(
        model.parameters(), lr=1.0, max_iter=200, tolerance_grad=1e-12,
        tolerance_change=1e-15, line_search_fn="strong_wolfe",
    )

    def closure():
        opt.zero_grad()
        loss = sv.cox_partial_likelihood(model(xt), tt, et, ties="efron")
        loss.backward()
        return loss

    for _ in range(5):
        opt.step(closure)
    ours = model.weight.detach().numpy().ravel()
    ref = lifelines_cph.params_[cols].to_numpy()
    np.testing.assert_allclose(ours, ref, atol=1e-3)


@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_cox_matches_torchsurv(ties):
    """torchsurv's ``neg_partial_log_likelihood``: with ties its "mean" averages over unique
    event times, so compare its ``reduction="sum"`` divided by the number of events."""
    from torchsurv.loss.cox import neg_partial_log_likelihood

    rng = np.random.default_rng(3)
    n = 60
    eta = torch.tensor(rng.normal(size=n), dtype=torch.float32)
    time = torch.tensor(rng.integers(1, 12, size=n), dtype=torch.float32)
    event = torch.tensor(rng.integers(0, 2, size=n)).bool()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = neg_partial_log_likelihood(eta, event, time, ties_method=ties, reduction="sum")
    ours = sv.cox_partial_likelihood(eta, time, event, ties=ties)
    assert ours.item() == pytest.approx(ref.item() / event.sum().item(), rel=1e-5)


# ------------------------------------------------------------------------------------------
# discrete-time NLL
# ------------------------------------------------------------------------------------------


def test_nll_discrete_hand_computed():
    # hazards 1/2 everywhere: uncensored in bin 1: -log S_0 - log h_1 = 2 log 2;
    # censored in bin 0: -log S_0 = log 2
    logits = torch.zeros(2, 3)
    assert sv.nll_discrete(logits, [1, 0], [1, 0]).item() == pytest.approx(1.5 * math.log(2))
    # alpha = 0.5: patient 1 (uncensored) keeps 2 log 2, patient 2 gets 0.5 log 2
    got = sv.nll_discrete(logits, [1, 0], [1, 0], alpha=0.5).item()
    assert got == pytest.approx((2 * math.log(2) + 0.5 * math.log(2)) / 2)
    # non-trivial hazards h = (0.2, 0.5): uncensored in bin 1 -> -log(0.8) - log(0.5)
    z = torch.logit(torch.tensor([[0.2, 0.5]], dtype=torch.float64))
    assert sv.nll_discrete(z, [1], [1]).item() == pytest.approx(-math.log(0.8) - math.log(0.5))
    assert sv.nll_discrete(z, [1], [0]).item() == pytest.approx(-math.log(0.8 * 0.5))


def test_nll_discrete_equals_masked_bce():
    """Per-bin BCE with logits: target 0 before the event bin, 1 at it, masked after;
    censored: 0 up to and including its own bin."""
    rng = np.random.default_rng(0)
    n, k = 50, 4
    logits = torch.tensor(rng.normal(size=(n, k)) * 2, requires_grad=True)
    y = torch.tensor(rng.integers(0, k, size=n))
    e = torch.tensor(rng.integers(0, 2, size=n))
    cols = torch.arange(k).unsqueeze(0)
    target = ((cols == y[:, None]) & (e[:, None] == 1)).double()
    mask = (cols <= y[:, None]).double()
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    ref = (bce * mask).sum(1).mean()
    ours = sv.nll_discrete(logits, y, e)
    assert ours.item() == pytest.approx(ref.item(), abs=1e-12)
    g_ours = torch.autograd.grad(ours, logits)[0]
    g_ref = torch.autograd.grad(ref, logits)[0]
    torch.testing.assert_close(g_ours, g_ref)


def test_nll_discrete_matches_reference_form_with_alpha():
    """The reference codes' sigmoid/cumprod form with alpha (probabilities far from 0)."""
    rng = np.random.default_rng(1)
    logits = torch.tensor(rng.normal(size=(30, 4)))
    y = torch.tensor(rng.integers(0, 4, size=30))
    e = torch.tensor(rng.integers(0, 2, size=30)).double()
    h = torch.sigmoid(logits)
    s = torch.cat([torch.ones(30, 1, dtype=torch.float64), torch.cumprod(1 - h, 1)], 1)
    unc = -e * (torch.log(s.gather(1, y[:, None])) + torch.log(h.gather(1, y[:, None]))).squeeze(1)
    cen = -(1 - e) * torch.log(s.gather(1, y[:, None] + 1)).squeeze(1)
    for alpha in (0.0, 0.4):
        ref = ((1 - alpha) * (unc + cen) + alpha * unc).mean()
        assert sv.nll_discrete(logits, y, e, alpha=alpha).item() == pytest.approx(ref.item())


def test_nll_discrete_stable_and_checked():
    logits = torch.tensor([[80.0, -80.0], [-80.0, 80.0]])
    assert torch.isfinite(sv.nll_discrete(logits, [0, 1], [1, 1]))
    with pytest.raises(ValueError, match="bin_index"):
        sv.nll_discrete(torch.zeros(2, 2), [0, 2], [1, 1])
    with pytest.raises(ValueError, match="alpha"):
        sv.nll_discrete(torch.zeros(2, 2), [0, 1], [1, 1], alpha=2.0)


# ------------------------------------------------------------------------------------------
# time bins and curves
# ------------------------------------------------------------------------------------------


def test_time_bins_follow_reference_rule():
    _, time, event = _simulated(200, seed=2)
    bins = sv.make_time_bins(time, event, n_bins=4)
    _, q = pd.qcut(time[event == 1], q=4, retbins=True, labels=False)
    assert bins.edges.shape == (5,)
    np.testing.assert_allclose(bins.edges[1:-1], q[1:-1])
    assert bins.edges[0] == pytest.approx(time.min() - 1e-6)
    assert bins.edges[-1] == pytest.approx(time.max() + 1e-6)
    # the reference codes' labels: pd.cut(right=False) on the widened edges
    ref = pd.cut(time, bins=bins.edges, labels=False, right=False, include_lowest=True)
    np.testing.assert_array_equal(bins.transform(time), ref)
    # about a quarter of the events in each bin
    counts = np.bincount(bins.transform(time[event == 1]), minlength=4)
    assert counts.min() >= event.sum() // 4 - 1
    # out of range times are clipped to the end bins; midpoints
    assert bins.transform([0.0, 1e6]).tolist() == [0, 3]
    np.testing.assert_allclose(bins.midpoints, (bins.edges[:-1] + bins.edges[1:]) / 2)


def test_time_bins_errors():
    with pytest.raises(ValueError, match="fewer bins"):
        sv.make_time_bins([1.0, 1.0, 1.0, 2.0], [1, 1, 1, 0], n_bins=4)
    with pytest.raises(RuntimeError, match="not fitted"):
        sv.TimeBins().transform([1.0])
    with pytest.raises(ValueError, match="negative"):
        sv.make_time_bins([-1.0, 2.0], [1, 1], n_bins=1)


def test_discrete_survival_and_interpolation():
    z = torch.logit(torch.tensor([[0.2, 0.5, 0.5]], dtype=torch.float64))
    np.testing.assert_allclose(sv.discrete_survival(z), [[0.8, 0.4, 0.2]])
    assert sv.discrete_risk(z)[0] == pytest.approx(-1.4)
    edges = np.array([0.0, 10.0, 20.0, 40.0])
    curve = np.array([[1.0, 0.8, 0.4, 0.2]])
    got = sv.survival_at_times(edges, curve, [0.0, 5.0, 10.0, 30.0, 100.0])
    np.testing.assert_allclose(got, [[1.0, 0.9, 0.8, 0.3, 0.2]])
    # at 12 months the value is not the edge value at 10 or 20
    s12 = sv.survival_at_times(edges, curve, [12.0])[0, 0]
    assert s12 == pytest.approx(0.8 - 0.4 * 2 / 10) and s12 not in (0.8, 0.4)
    # step: right-continuous, 1 before the first point
    got = sv.survival_at_times([5.0, 10.0], [0.9, 0.5], [1.0, 5.0, 7.0, 10.0, 11.0], "step")
    np.testing.assert_allclose(got, [1.0, 0.9, 0.9, 0.5, 0.5])
    # TimeBins.predict_survival == interpolation on (edges, [1, S])
    bins = sv.TimeBins(n_bins=3, edges=edges.copy())
    np.testing.assert_allclose(bins.predict_survival(z, [12.0]), [[0.8 - 0.4 * 0.2]])


def test_breslow_survival_matches_lifelines(rossi, lifelines_cph):
    x, t, e, cols = rossi
    beta = lifelines_cph.params_[cols].to_numpy()
    eta = x @ beta
    times = np.array([1.0, 10.0, 20.0, 30.0, 52.0])  # observed weeks
    ours = sv.breslow_survival(eta, t, e, eta[:20], times)
    df = pd.DataFrame(x[:20], columns=cols)
    ref = lifelines_cph.predict_survival_function(df, times=times).to_numpy().T
    np.testing.assert_allclose(ours, ref, atol=1e-6)


# ------------------------------------------------------------------------------------------
# metrics
# ------------------------------------------------------------------------------------------


def test_concordance_matches_lifelines():
    from lifelines.utils import concordance_index

    risk, time, event = _simulated(300)
    noisy = risk + np.random.default_rng(5).normal(size=risk.size)
    c = sv.concordance(noisy, time, event)
    assert c == pytest.approx(concordance_index(time, -noisy, event), abs=1e-10)
    assert 0.6 < c < 0.9
    assert sv.concordance(-noisy, time, event) == pytest.approx(1 - c, abs=1e-10)
    with pytest.raises(ValueError, match="event"):
        sv.concordance(risk, time, np.full(time.size, 2))
    with pytest.raises(ValueError, match="shape"):
        sv.concordance(risk[:-1], time, event)


def _split():
    risk, time, event = _simulated(400, seed=7)
    return risk, time, event, np.arange(400) < 250


def test_uno_and_td_auc_match_sksurv():
    from sksurv.metrics import concordance_index_ipcw, cumulative_dynamic_auc
    from sksurv.util import Surv

    risk, time, event, tr = _split()
    te = ~tr
    # keep the test follow-up inside the training one so no censoring adjustment happens
    te &= time < time[tr].max()
    y_tr = Surv.from_arrays(event[tr].astype(bool), time[tr])
    y_te = Surv.from_arrays(event[te].astype(bool), time[te])
    uno = sv.uno_concordance(risk[te], time[te], event[te], time[tr], event[tr])
    assert uno == pytest.approx(concordance_index_ipcw(y_tr, y_te, risk[te])[0])

    times = [12.0, 36.0, 60.0]
    aucs, mean_auc = sv.td_auc(risk[te], time[te], event[te], time[tr], event[tr], times)
    ref_aucs, ref_mean = cumulative_dynamic_auc(y_tr, y_te, risk[te], times)
    np.testing.assert_allclose(aucs, ref_aucs)
    assert mean_auc == pytest.approx(ref_mean)
    assert sv.iauc(risk[te], time[te], event[te], time[tr], event[tr], times) == pytest.approx(
        ref_mean
    )
    # survival matrix input at the requested times: risk_t = 1 - S(t)
    surv = sv.breslow_survival(risk[tr], time[tr], event[tr], risk[te], times)
    aucs2, _ = sv.td_auc(surv, time[te], event[te], time[tr], event[tr], times)
    ref2, _ = cumulative_dynamic_auc(y_tr, y_te, 1 - surv, times)
    np.testing.assert_allclose(aucs2, ref2)


def test_td_auc_out_of_range_times():
    risk, time, event, tr = _split()
    te = ~tr
    late = [12.0, 36.0, 1e4]
    with pytest.warns(UserWarning, match="outside the evaluable range"):
        aucs, mean_auc = sv.td_auc(risk[te], time[te], event[te], time[tr], event[tr], late)
    assert np.isnan(aucs[2]) and np.isfinite(aucs[:2]).all() and np.isfinite(mean_auc)
    with pytest.raises(ValueError, match="outside the evaluable range"):
        sv.td_auc(risk[te], time[te], event[te], time[tr], event[tr], late, out_of_range="raise")
    with pytest.raises(ValueError, match="increasing"):
        sv.td_auc(risk[te], time[te], event[te], time[tr], event[tr], [36.0, 12.0])


def test_metrics_censor_beyond_training_followup():
    """A test patient followed beyond the training follow-up is censored there; metrics at
    earlier times are unchanged (compared with sksurv on the pre-censored data)."""
    from sksurv.metrics import cumulative_dynamic_auc
    from sksurv.util import Surv

    risk, time, event, tr = _split()
    te = ~tr
    t_te, e_te = time[te].copy(), event[te].copy()
    t_max = time[tr].max()
    t_te[0], e_te[0] = t_max + 50.0, 1  # beyond the training follow-up
    with pytest.warns(UserWarning, match="beyond the training follow-up"):
        aucs, _ = sv.td_auc(risk[te], t_te, e_te, time[tr], event[tr], [12.0, 36.0])
    t_ref, e_ref = t_te.copy(), e_te.copy()
    t_ref[0], e_ref[0] = t_max, 0
    ref, _ = cumulative_dynamic_auc(
        Surv.from_arrays(event[tr].astype(bool), time[tr]),
        Surv.from_arrays(e_ref.astype(bool), t_ref), risk[te], [12.0, 36.0],
    )
    np.testing.assert_allclose(aucs, ref)
    with pytest.warns(UserWarning):
        assert np.isfinite(sv.uno_concordance(risk[te], t_te, e_te, time[tr], event[tr]))


def test_integrated_brier_matches_sksurv():
    from sksurv.metrics import integrated_brier_score
    from sksurv.util import Surv

    risk, time, event, tr = _split()
    te = ~tr & (time < time[tr].max())
    grid = np.linspace(6.0, 60.0, 10)
    surv = sv.breslow_survival(risk[tr], time[tr], event[tr], risk[te], grid)
    ibs = sv.integrated_brier(surv, time[te], event[te], time[tr], event[tr], grid)
    ref = integrated_brier_score(
        Surv.from_arrays(event[tr].astype(bool), time[tr]),
        Surv.from_arrays(event[te].astype(bool), time[te]), surv, grid,
    )
    assert ibs == pytest.approx(ref)
    assert 0 < ibs < 0.25
    with pytest.raises(ValueError, match="shape"):
        sv.integrated_brier(surv[:, :3], time[te], event[te], time[tr], event[tr], grid)


def test_km_logrank_median_split():
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import logrank_test

    risk, time, event = _simulated(200, seed=4)
    km = sv.km_curve(time, event)
    assert list(km.columns) == ["time", "survival", "lower", "upper"]
    ref = KaplanMeierFitter().fit(time, event).survival_function_.iloc[:, 0].to_numpy()
    np.testing.assert_allclose(km["survival"], ref)
    assert km["survival"].iloc[0] == 1.0 and (km["lower"] <= km["survival"]).all()
    assert (km["survival"] <= km["upper"]).all()

    groups = sv.median_split(risk)
    assert set(groups) == {"high", "low"} and (groups == "high").sum() == 100
    hi = groups == "high"
    p = sv.logrank_p(time, event, groups)
    ref_p = logrank_test(time[hi], time[~hi], event[hi], event[~hi]).p_value
    assert p == pytest.approx(ref_p) and p < 1e-3
    np.testing.assert_array_equal(sv.median_split([1.0, 2.0, 3.0], threshold=2.5),
                                  ["low", "low", "high"])
    with pytest.raises(ValueError, match="two groups"):
        sv.logrank_p(time, event, np.zeros(time.size))


def _km(times: np.ndarray, events: np.ndarray, at: float) -> float:
    """Kaplan-Meier survival at ``at`` by hand (product over distinct event times <= at)."""
    s = 1.0
    for u in np.unique(times[(events == 1) & (times <= at)]):
        s *= 1.0 - np.sum((times == u) & (events == 1)) / np.sum(times >= u)
    return s


def test_released_td_auc_equals_hand_computation() -> None:
    """SurvPGC's released AUC: horizons 12/36/60 months, patient i scored with 1 - S_i at
    columns 1, 2, 3 of its 4-bin survival curve; Uno's IPCW AUC and the KM-weighted mean,
    computed here by hand."""
    from survlib.survival import released_td_auc

    rng = np.random.default_rng(3)
    logits = rng.normal(size=(8, 4))
    t = np.array([5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 70.0, 80.0])
    e = np.array([1, 1, 0, 1, 1, 0, 1, 0])
    ct = np.r_[t, [7.0, 25.0, 33.0, 65.0, 90.0]]  # censoring reference (train + val + test)
    ce = np.r_[e, [0, 1, 0, 0, 1]]
    surv = np.cumprod(1.0 - 1.0 / (1.0 + np.exp(-logits)), axis=1)
    horizons = np.array([12.0, 36.0, 60.0])
    hand = []
    for m, h in enumerate(horizons):
        score = 1.0 - surv[:, m + 1]  # the bin-edge column, not S at h months
        num = den = 0.0
        for i in np.flatnonzero((t <= h) & (e == 1)):
            w = 1.0 / _km(ct, 1 - ce, t[i])  # censoring survival G(T_i)
            for j in np.flatnonzero(t > h):
                num += w * (score[i] > score[j])
                den += w
        hand.append(num / den)
    hand = np.array(hand)
    s_h = np.array([_km(t, e, h) for h in horizons])
    hand_mean = float(np.sum(-np.diff(np.r_[1.0, s_h]) * hand) / (1.0 - s_h[-1]))
    aucs, mean_auc = released_td_auc(logits, t, e, ct, ce, horizons)
    np.testing.assert_allclose(aucs, hand, atol=1e-12)
    assert mean_auc == pytest.approx(hand_mean, abs=1e-12)
    with pytest.raises(ValueError, match="n_bins - 1 == len"):
        released_td_auc(logits[:, :3], t, e, ct, ce, horizons)
    # a horizon beyond the test follow-up: scikit-survival refuses, the released code records 0
    a0, m0 = released_td_auc(logits, t, e, ct, ce, [12.0, 36.0, 99.0], failed_value=0.0)
    assert m0 == 0.0 and (a0 == 0.0).all()


def test_paired_bootstrap_cindex_known_answers() -> None:
    rng = np.random.default_rng(0)
    n = 120
    risk = rng.normal(size=n)
    t = rng.exponential(np.exp(-risk))  # higher risk, earlier death
    e = (rng.random(n) < 0.7).astype(int)
    noise = rng.normal(size=n)
    res = sv.paired_bootstrap_cindex(risk, noise, t, e, n_boot=40, seed=1)
    assert res["diff"] == pytest.approx(sv.concordance(risk, t, e) - sv.concordance(noise, t, e))
    assert res["diff"] > 0.1 and res["ci_low"] > 0 and res["p"] < 0.05
    same = sv.paired_bootstrap_cindex(risk, risk, t, e, n_boot=20, seed=1)
    assert same["diff"] == 0.0 and same["p"] == 1.0 and same["n_valid"] == 20
    again = sv.paired_bootstrap_cindex(risk, noise, t, e, n_boot=40, seed=1)
    assert again == res  # seeded
    with pytest.raises(ValueError, match="n_boot"):
        sv.paired_bootstrap_cindex(risk, noise, t, e, n_boot=0)
