"""Training never passes NaN on (issue 10): every training path of survlib stops at the first
non-finite loss, gradient or parameter with an error naming the model, the stage and the step,
and prediction / risk-cell calls refuse non-finite embeddings or scores.

Divergence is forced with an absurd learning rate (Adam's first step moves every weight by
about the learning rate, so 1e30 overflows float32 at the next forward pass)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from survlib._core.finite import FiniteGuard, NonFiniteError, require_finite
from survlib.survival import cox_partial_likelihood

pytestmark = pytest.mark.usefixtures("one_torch_thread")

HUGE_LR = 1e30


# ----------------------------------------------------------------------------- the guard itself


def test_guard_names_model_stage_step_and_parameter() -> None:
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    guard = FiniteGuard(net, "warm-up", net.named_parameters())
    guard.loss(torch.tensor(1.0), 0)  # finite: silent
    with pytest.raises(
        NonFiniteError, match=r"Sequential, stage 'warm-up', step 7: the loss is inf"
    ):
        guard.loss(torch.tensor(float("inf")), 7)
    net(torch.ones(1, 3)).sum().backward()
    guard.gradients(1)
    net[1].weight.grad[0, 1] = float("nan")
    with pytest.raises(NonFiniteError, match=r"step 2: the gradient of parameter '1.weight' has 1"):
        guard.gradients(2)
    with torch.no_grad():
        net[0].bias[1] = float("-inf")
    with pytest.raises(NonFiniteError, match=r"parameter '0.bias' has 1 non-finite"):
        guard.parameters(3)


def test_require_finite_names_what_and_who() -> None:
    require_finite(np.ones(3), "scores", "f")
    with pytest.raises(NonFiniteError, match=r"g: the risks hold 2 non-finite value\(s\) of 4"):
        require_finite(np.array([1.0, np.nan, np.inf, 0.0]), "risks", "g")
    with pytest.raises(NonFiniteError, match="embeddings"):
        require_finite(torch.tensor([[float("nan")]]), "embeddings", "h")


# ------------------------------------------------------------------------- the Cox loss numerics


def test_cox_loss_and_gradient_stay_finite_for_far_apart_log_hazards() -> None:
    # a spread of 200 underflows float32 exponentials: the old shifted-exponential form gave
    # NaN gradients here (0 * inf); the log-space form matches a float64 computation
    rng = np.random.default_rng(0)
    eta64 = torch.tensor(rng.uniform(-100, 100, 40), dtype=torch.float64, requires_grad=True)
    time = np.round(rng.exponential(10, 40), 0) + 1  # rounded: many ties (Efron's branch)
    event = (rng.random(40) < 0.7).astype(int)
    event[0] = 1
    eta32 = eta64.detach().float().requires_grad_(True)
    for ties in ("efron", "breslow"):
        for eta in (eta64, eta32):
            eta.grad = None
            loss = cox_partial_likelihood(eta, time, event, ties=ties)
            loss.backward()
            assert math.isfinite(loss.item()) and torch.isfinite(eta.grad).all()
        ref = cox_partial_likelihood(eta64, time, event, ties=ties)
        assert cox_partial_likelihood(eta32, time, event, ties=ties).item() == pytest.approx(
            ref.item(), rel=1e-5
        )
        eta64.grad = None
        ref.backward()
        g64 = eta64.grad.clone()
        eta32.grad = None
        cox_partial_likelihood(eta32, time, event, ties=ties).backward()
        np.testing.assert_allclose(eta32.grad.numpy(), g64.numpy(), atol=1e-5)


# ----------------------------------------------------------------------------- train.fit


def test_fit_stops_at_the_first_non_finite_step() -> None:
    from survlib.train import fit

    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    x, y = torch.randn(32, 4), torch.randn(32, 1)
    opt = torch.optim.Adam(model.parameters(), lr=HUGE_LR)
    with pytest.raises(
        NonFiniteError, match=r"Linear, stage 'toy', step epoch 1 batch 1: the loss"
    ):
        fit(
            model,
            opt,
            lambda epoch: [0, 1, 2],
            lambda m, b: ((m(x) - y) ** 2).mean(),
            max_epochs=3,
            progress=False,
            desc="toy",
        )


def test_fit_catches_a_nan_gradient_behind_a_finite_loss() -> None:
    from survlib.train import fit

    model = torch.nn.Linear(2, 1)
    x = torch.ones(4, 2)

    def loss_fn(m: torch.nn.Module, _: int) -> torch.Tensor:  # sqrt(0) has an infinite slope
        return torch.sqrt(((m(x) - m(x).detach()) ** 2).sum())

    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(NonFiniteError, match=r"gradient of parameter '(weight|bias)'"):
        fit(model, opt, lambda epoch: [0], loss_fn, max_epochs=1, progress=False)
    assert all(torch.isfinite(p).all() for p in model.parameters())  # no step was taken


def test_lbfgs_cox_refuses_non_finite_covariates() -> None:
    from survlib.models.omics import LinearCox, fit_cox_lbfgs

    x = np.random.default_rng(0).normal(size=(20, 3))
    x[4, 1] = np.inf
    time, event = np.arange(1, 21, dtype=float), np.ones(20)
    with pytest.raises(NonFiniteError, match="LinearCox, stage 'lbfgs'"):
        fit_cox_lbfgs(LinearCox(3), x, time, event)


# ----------------------------------------------------------------------------- the bag models


def test_discrete_bag_model_training_stops_on_divergence() -> None:
    from survlib.data.multimodal import prepare_fold, simulate_multimodal_cohort
    from survlib.models import MODEL_ZOO, fit_discrete_model
    from survlib.train import cv_splits

    c = simulate_multimodal_cohort(
        60, seed=0, n_genes=60, n_pathways=6, d_patch=8, patches_per_patient=(4, 8)
    )
    split = cv_splits(c.event, n_folds=2, seed=0)[0]
    data = prepare_fold(c, split.train)
    model = MODEL_ZOO["MLP (clinic covariates)"](
        d_patch=None, pathways=None, n_genes=None, d_text=None, n_clinical=data.n_clinical, n_bins=4
    )
    with pytest.raises(NonFiniteError, match=r"stage 'discrete-time NLL', step epoch 1"):
        fit_discrete_model(model, data, split, max_epochs=3, lr=HUGE_LR, batch_size=8, device="cpu")


# ----------------------------------------------------------------------------- AMKD


def _amkd_toy():
    from survlib.models.blocks import PathwayMembership, SurvivalBatch

    g = torch.Generator().manual_seed(0)
    n, n_patches, n_genes = 32, 9, 40
    pw = PathwayMembership.random(8, n_genes, seed=0)
    sizes = torch.randint(3, n_patches + 1, (n,), generator=g)
    mask = torch.arange(n_patches)[None, :] < sizes[:, None]
    patches = torch.randn(n, n_patches, 6, generator=g).masked_fill(~mask[..., None], 0.0)
    genes = torch.randn(n, n_genes, generator=g)
    time = torch.rand(n, generator=g) * 20 + 1
    event = (torch.rand(n, generator=g) < 0.7).long()
    event[:4] = 1
    return SurvivalBatch(patches=patches, patch_mask=mask, genes=genes, event=event, time=time), pw


def test_amkd_teacher_training_stops_on_divergence() -> None:
    from survlib.models.distill import AMKDTeacher, fit_teacher

    data, pw = _amkd_toy()
    teacher = AMKDTeacher(6, pw, d=16, pathway_hidden=8, d_hidden=8)
    with pytest.raises(NonFiniteError, match=r"AMKDTeacher, stage 'teacher', step epoch"):
        fit_teacher(
            teacher,
            data,
            np.arange(24),
            np.arange(24, 32),
            lr=HUGE_LR,
            max_epochs=3,
            patience=None,
            batch_size=8,
        )


def test_amkd_student_training_stops_on_divergence() -> None:
    from survlib.models.distill import (
        AMKDConfig,
        AMKDStudent,
        AMKDTeacher,
        fit_student,
        fit_teacher,
    )

    data, pw = _amkd_toy()
    torch.manual_seed(0)
    teacher = AMKDTeacher(6, pw, d=16, pathway_hidden=8, d_hidden=8)
    fit_teacher(
        teacher, data, np.arange(24), np.arange(24, 32), max_epochs=1, patience=None, batch_size=8
    )
    student = AMKDStudent(6, teacher.d_g2p, d=16, d_enhance=8, d_hidden=8)
    with pytest.raises(NonFiniteError, match=r"AMKDStudent, stage 'student', step epoch"):
        fit_student(
            student,
            teacher,
            data,
            np.arange(24),
            np.arange(24, 32),
            AMKDConfig(max_epochs=3, patience=5, batch_size=8, lr=HUGE_LR, grad_clip=None),
        )


# scSurvival's stages, prediction and risk-cell calls: tests/models/sc/test_training.py,
# tests/explain/test_risk_cells.py and tests/models/sc/test_amicr.py (the hazard clamp).
