"""Known-answer tests for survlib.survival.losses (Cox partial likelihood, discrete NLL).

Each test names its reference: a hand computation, lifelines or torchsurv.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from survlib import survival as sv

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
        model.parameters(),
        lr=1.0,
        max_iter=200,
        tolerance_grad=1e-12,
        tolerance_change=1e-15,
        line_search_fn="strong_wolfe",
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
