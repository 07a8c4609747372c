"""AMKD's losses (survlib.models.distill.losses): the losses on hand-checked inputs, their
limiting behaviour, where gradients flow (the frozen teacher), the objective and its ablation
switches, and the candidate readings of L_ARR."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from survlib.models.distill import (
    ARR_EPS,
    AMKDConfig,
    AMKDStudent,
    AMKDTeacher,
    amkd_losses,
    amkd_objective,
    arr_minimiser,
    loss_arr,
    loss_ge,
    loss_kd,
)
from tests.models.distill.toy import toy_data

LOG3 = math.log(3.0)


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny models: one thread is faster

HALF_LOG_4_3 = 0.5 * math.log(4.0 / 3.0)  # KL((1/2, 1/2) || (3/4, 1/4))


# --------------------------------------------------------------------------------------------
# L_GE
# --------------------------------------------------------------------------------------------


def test_loss_ge_hand_checked() -> None:
    # teacher (0, 0) -> p_t = (1/2, 1/2); student (log 3, 0) -> p_s = (3/4, 1/4)
    s = torch.tensor([[[LOG3, 0.0]]])
    t = torch.zeros(1, 1, 2)
    assert loss_ge(s, t).item() == pytest.approx(HALF_LOG_4_3, abs=1e-6)
    # temperature: (2 log 3, 0) at tau = 2 is the same distribution
    assert loss_ge(2 * s, t, tau=2.0).item() == pytest.approx(HALF_LOG_4_3, abs=1e-6)
    # direction is KL(teacher || student): swapping the roles gives KL(p_s || p_t)
    kl_rev = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    assert loss_ge(t, s).item() == pytest.approx(kl_rev, abs=1e-6)


def test_loss_ge_zero_when_equal_and_shift_invariant() -> None:
    x = torch.randn(2, 5, 7)
    assert loss_ge(x, x.clone()).item() == pytest.approx(0.0, abs=1e-7)
    # the softmax ignores a constant per patch
    assert loss_ge(x + 3.0, x).item() == pytest.approx(0.0, abs=1e-6)
    assert loss_ge(x + torch.randn(2, 5, 1), x).item() == pytest.approx(0.0, abs=1e-6)
    assert loss_ge(torch.randn(2, 5, 7), x).item() > 0


def test_loss_ge_mask_ignores_padding_and_means_per_patient() -> None:
    s, t = torch.randn(2, 4, 3), torch.randn(2, 4, 3)
    mask = torch.tensor([[True, True, False, False], [True, True, True, True]])
    base = loss_ge(s, t, patch_mask=mask)
    s2, t2 = s.clone(), t.clone()
    s2[0, 2:] = 100.0 * torch.randn(2, 3)  # garbage in the padding
    t2[0, 2:] = -50.0
    assert loss_ge(s2, t2, patch_mask=mask).item() == pytest.approx(base.item(), abs=1e-6)
    per_patient = [loss_ge(s[0, :2], t[0, :2]).item(), loss_ge(s[1], t[1]).item()]
    assert base.item() == pytest.approx(np.mean(per_patient), abs=1e-6)


def test_loss_ge_gradient_reaches_student_only() -> None:
    s = torch.randn(1, 3, 4, requires_grad=True)
    t = torch.randn(1, 3, 4, requires_grad=True)
    loss_ge(s, t).backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert t.grad is None


def test_loss_ge_bad_input() -> None:
    with pytest.raises(ValueError, match="same shape"):
        loss_ge(torch.zeros(1, 2, 3), torch.zeros(1, 2, 4))
    with pytest.raises(ValueError, match="tau"):
        loss_ge(torch.zeros(1, 2, 3), torch.zeros(1, 2, 3), tau=0.0)


# --------------------------------------------------------------------------------------------
# L_KD
# --------------------------------------------------------------------------------------------


def test_loss_kd_hand_checked() -> None:
    # sigma(0) = 1/2 (teacher), sigma(log 3) = 3/4 (student): Bernoulli KL = (1/2) log(4/3)
    assert loss_kd(torch.tensor([LOG3]), torch.tensor([0.0])).item() == pytest.approx(
        HALF_LOG_4_3, abs=1e-6
    )
    assert loss_kd(torch.tensor([2 * LOG3]), torch.tensor([0.0]), tau=2.0).item() == pytest.approx(
        HALF_LOG_4_3, abs=1e-6
    )
    # [B, K] logits: the Bernoulli KLs are summed over units, averaged over patients
    s = torch.tensor([[LOG3, LOG3], [0.0, 0.0]])
    t = torch.zeros(2, 2)
    assert loss_kd(s, t).item() == pytest.approx(HALF_LOG_4_3, abs=1e-6)  # (2 x + 0) / 2


def test_loss_kd_zero_when_equal_stable_and_teacher_detached() -> None:
    x = torch.randn(6)
    assert loss_kd(x, x.clone()).item() == pytest.approx(0.0, abs=1e-7)
    big = loss_kd(torch.tensor([80.0]), torch.tensor([-80.0]))
    assert torch.isfinite(big) and big.item() > 50
    s = torch.randn(4, requires_grad=True)
    t = torch.randn(4, requires_grad=True)
    loss_kd(s, t).backward()
    assert s.grad is not None and t.grad is None


# --------------------------------------------------------------------------------------------
# L_ARR
# --------------------------------------------------------------------------------------------


def _arr_grad(l_kd: float, ratio: float) -> float:
    x = torch.tensor(l_kd, dtype=torch.float64, requires_grad=True)
    loss_arr(x, ratio, 1.0).backward()
    return float(x.grad)


def test_loss_arr_hand_checked() -> None:
    # L_KD = log 3 -> sigma = 3/4 -> 2 sigma - 1 = 1/2 = 2 - 2 sigma; r = 1: -2 log(1/2)
    got = loss_arr(torch.tensor(LOG3, dtype=torch.float64), 1.0, 1.0).item()
    assert got == pytest.approx(2 * math.log(2.0), abs=1e-5)
    # r = 3: -log(1/2) - 3 log(1/2) = 4 log 2 (teacher's loss 1, student's 3)
    got = loss_arr(torch.tensor(LOG3, dtype=torch.float64), 3.0, 1.0).item()
    assert got == pytest.approx(4 * math.log(2.0), abs=1e-4)
    exact = -math.log(0.5 + ARR_EPS) - 3.0 / (1.0 + ARR_EPS) * math.log(0.5 + ARR_EPS)
    assert got == pytest.approx(exact, abs=1e-12)


@pytest.mark.parametrize("ratio", [0.05, 0.5, 1.0, 2.0, 20.0])
def test_loss_arr_minimiser_is_log_one_plus_two_over_r(ratio: float) -> None:
    star = arr_minimiser(ratio)
    assert _arr_grad(star, ratio) == pytest.approx(0.0, abs=1e-4 * max(1.0, ratio))  # eps
    assert _arr_grad(0.8 * star, ratio) < 0 < _arr_grad(1.25 * star, ratio)  # a minimum


def test_loss_arr_limits_student_much_worse_relies_on_teacher() -> None:
    # r = L_s / L_t large: the minimiser goes to 0 (mimic the teacher) and at any moderate gap
    # the gradient pushes L_KD down
    assert arr_minimiser(1e4) < 1e-3
    for gap in (0.05, 0.5, 2.0):
        assert _arr_grad(gap, 1e3) > 0


def test_loss_arr_limits_student_much_better_is_released() -> None:
    # r -> 0: the teacher's pull vanishes; the minimiser moves far away and the gradient on
    # L_KD is negative (no force back toward the teacher) at every gap
    assert arr_minimiser(1e-4) > 9.0
    assert arr_minimiser(0.0) == math.inf
    for gap in (0.05, 0.5, 2.0, 5.0):
        assert _arr_grad(gap, 1e-4) < 0


def test_loss_arr_monotone_in_ratio_and_eps_keeps_it_finite() -> None:
    stars = [arr_minimiser(r) for r in (0.1, 0.5, 1.0, 2.0, 10.0)]
    assert all(a > b for a, b in zip(stars, stars[1:], strict=False))
    at_zero = loss_arr(torch.tensor(0.0, dtype=torch.float64), 1.0, 1.0)
    assert torch.isfinite(at_zero)
    assert at_zero.item() == pytest.approx(-math.log(ARR_EPS) - math.log(1 + ARR_EPS), rel=1e-6)
    # convex in L_KD: second differences are positive
    grid = torch.linspace(0.05, 6.0, 50, dtype=torch.float64)
    vals = torch.stack([loss_arr(g, 0.7, 1.0) for g in grid])
    assert (vals[2:] - 2 * vals[1:-1] + vals[:-2] > 0).all()


def test_loss_arr_ratio_is_a_detached_weight() -> None:
    kd = torch.tensor(0.3, requires_grad=True)
    s = torch.tensor(0.9, requires_grad=True)
    loss_arr(kd, s, 1.2).backward()
    assert kd.grad is not None and s.grad is None
    kd2 = torch.tensor(0.3, requires_grad=True)
    s2 = torch.tensor(0.9, requires_grad=True)
    loss_arr(kd2, s2, 1.2, detach_ratio=False).backward()
    assert s2.grad is not None


def test_loss_arr_bad_input() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        loss_arr(torch.tensor(0.1), -1.0, 1.0)
    with pytest.raises(ValueError, match="scalar"):
        loss_arr(torch.zeros(2), 1.0, 1.0)


# --------------------------------------------------------------------------------------------
# The objective
# --------------------------------------------------------------------------------------------


def test_alpha_one_reduces_to_the_standard_losses() -> None:
    ge, kd, surv = (torch.tensor(v, requires_grad=True) for v in (0.2, 0.3, 1.1))
    arr = torch.tensor(7.0, requires_grad=True)
    total = amkd_objective(ge, kd, surv, arr, alpha=1.0)
    assert total.item() == pytest.approx(0.2 + 0.3 + 1.1)
    total.backward()
    assert arr.grad is None or arr.grad.item() == 0.0
    assert ge.grad.item() == kd.grad.item() == surv.grad.item() == 1.0
    # alpha = 0: L_ARR alone; alpha = 0.75: the weighted sum
    assert amkd_objective(0.2, 0.3, torch.tensor(1.1), 7.0, alpha=0.0).item() == pytest.approx(7.0)
    assert amkd_objective(0.2, 0.3, torch.tensor(1.1), 7.0, alpha=0.75).item() == pytest.approx(
        0.75 * 1.6 + 0.25 * 7.0
    )
    with pytest.raises(ValueError, match="alpha"):
        amkd_objective(0.0, 0.0, torch.tensor(0.0), 0.0, alpha=1.5)


# --------------------------------------------------------------------------------------------
# All terms on a batch
# --------------------------------------------------------------------------------------------


def test_student_step_leaves_teacher_frozen() -> None:
    data, pw = toy_data()
    teacher = AMKDTeacher(6, pw, d=16, pathway_hidden=8, d_hidden=8)
    student = AMKDStudent(6, teacher.d_g2p, d=16, d_enhance=8, d_hidden=8)
    t_out = teacher(data.patches, data.patch_mask, data.genes)  # teacher in the graph
    s_out = student(data.patches, data.patch_mask)
    losses = amkd_losses(
        s_out, t_out, data.time, data.event, data.patch_mask, AMKDConfig(alpha=0.75)
    )
    losses.total.backward()
    assert all(p.grad is None for p in teacher.parameters())
    grads = [p.grad for p in student.parameters()]
    assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.as_dict().values())


def test_ablation_switches() -> None:
    data, pw = toy_data()
    teacher = AMKDTeacher(6, pw, d=16).eval()
    student = AMKDStudent(6, teacher.d_g2p, d=16)
    t_out = teacher(data.patches, data.patch_mask, data.genes)
    s_out = student(data.patches, data.patch_mask)
    args = (s_out, t_out, data.time, data.event, data.patch_mask)
    full = amkd_losses(*args, AMKDConfig(alpha=1.0))
    assert full.total.item() == pytest.approx((full.ge + full.kd + full.surv).item(), rel=1e-6)
    assert full.arr.item() == 0.0
    no_ge = amkd_losses(*args, AMKDConfig(alpha=1.0, use_ge=False))
    assert no_ge.total.item() == pytest.approx((no_ge.kd + no_ge.surv).item(), rel=1e-6)
    no_arr = amkd_losses(*args, AMKDConfig(alpha=0.75, use_arr=False))
    assert no_arr.total.item() == pytest.approx(full.total.item(), rel=1e-6)


def test_arr_readings_behaviour_against_section_2_5() -> None:
    """The four sign patterns of L_ARR: the trained one is loss_arr; their slopes at a small and
    a large L_KD say whether they pull the student toward the teacher (positive slope:
    minimising lowers L_KD) or push it away."""
    from survlib.models.distill import ARR_READINGS, arr_readings, loss_arr

    grid = torch.tensor([0.05, 0.5, 3.0], dtype=torch.float64)
    for r in (0.5, 2.0):
        got = arr_readings(grid, r)
        assert set(got) == set(ARR_READINGS)
        trained = torch.stack([loss_arr(g, r, 1.0) for g in grid])
        # (loss_arr divides by L_t + eps: equal up to r * eps)
        torch.testing.assert_close(got["-[a + r b] (trained)"], trained, atol=1e-5, rtol=0)
        x = grid.clone().requires_grad_(True)
        slope = {k: torch.autograd.grad(arr_readings(x, r)[k].sum(), x)[0] for k in ARR_READINGS}
        # trained: pushes away near 0, pulls back at large gaps (one interior minimum)
        assert slope["-[a + r b] (trained)"][0] < 0 < slope["-[a + r b] (trained)"][2]
        # literal: pulls toward the teacher near 0, pushes away at large gaps
        assert slope["a + r b (literal)"][0] > 0 > slope["a + r b (literal)"][2]
        assert (slope["-a + r b"] < 0).all()  # always away
        assert (slope["a - r b"] > 0).all()  # always toward: no interior minimiser
    # the literal reading's push-away term grows with r (a worse student is pushed harder)
    x = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    s_small = torch.autograd.grad(arr_readings(x, 0.5)["a + r b (literal)"], x)[0]
    s_large = torch.autograd.grad(arr_readings(x, 2.0)["a + r b (literal)"], x)[0]
    assert s_large < s_small < 0
