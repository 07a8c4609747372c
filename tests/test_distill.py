"""AMKD (survlib.models.distill): the losses on hand-checked inputs, their limiting behaviour,
where gradients flow (frozen teacher, pathology-only student), and the models' masks."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
import torch

from survlib.models.blocks import PathwayMembership, SurvivalBatch
from survlib.models.distill import (
    ARR_EPS,
    AMKDConfig,
    AMKDStudent,
    AMKDTeacher,
    MILTeacher,
    amkd_losses,
    amkd_objective,
    arr_minimiser,
    cox_batches,
    fit_student,
    fit_teacher,
    loss_arr,
    loss_ge,
    loss_kd,
    predict_risk,
    student_flops,
)

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
        HALF_LOG_4_3, abs=1e-6)
    assert loss_kd(torch.tensor([2 * LOG3]), torch.tensor([0.0]), tau=2.0).item() == \
        pytest.approx(HALF_LOG_4_3, abs=1e-6)
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
    assert all(a > b for a, b in zip(stars, stars[1:]))
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
    assert amkd_objective(0.2, 0.3, torch.tensor(1.1), 7.0, alpha=0.0).item() == \
        pytest.approx(7.0)
    assert amkd_objective(0.2, 0.3, torch.tensor(1.1), 7.0, alpha=0.75).item() == \
        pytest.approx(0.75 * 1.6 + 0.25 * 7.0)
    with pytest.raises(ValueError, match="alpha"):
        amkd_objective(0.0, 0.0, torch.tensor(0.0), 0.0, alpha=1.5)


# --------------------------------------------------------------------------------------------
# Models: shapes, masks, who sees what, where gradients go
# --------------------------------------------------------------------------------------------


def _toy(n: int = 24, n_patches: int = 9, d_patch: int = 6, n_genes: int = 40,
         seed: int = 0) -> tuple[SurvivalBatch, PathwayMembership]:
    g = torch.Generator().manual_seed(seed)
    pw = PathwayMembership.random(8, n_genes, seed=seed)
    sizes = torch.randint(3, n_patches + 1, (n,), generator=g)
    mask = torch.arange(n_patches)[None, :] < sizes[:, None]
    patches = torch.randn(n, n_patches, d_patch, generator=g).masked_fill(~mask[..., None], 0.0)
    genes = torch.randn(n, n_genes, generator=g)
    risk = patches[..., 0].sum(1) / sizes + genes[:, :5].mean(1)
    time = torch.exp(-risk + 0.3 * torch.randn(n, generator=g)) * 20 + 1
    event = (torch.rand(n, generator=g) < 0.7).long()
    event[:2] = 1
    return SurvivalBatch(patches=patches, patch_mask=mask, genes=genes, event=event,
                         time=time), pw


def test_student_forward_takes_pathology_only() -> None:
    params = list(inspect.signature(AMKDStudent.forward).parameters)
    assert params == ["self", "patches", "patch_mask"]
    assert AMKDStudent.inputs == ("patches", "patch_mask")
    data, pw = _toy()
    teacher = AMKDTeacher(6, pw, d=16, pathway_hidden=8, d_hidden=8)
    student = AMKDStudent(6, teacher.d_g2p, d=16, d_enhance=8, d_hidden=8).eval()
    out = student(data.patches, data.patch_mask)
    assert out.risk.shape == (24,) and out.g2p.shape == (24, 9, 16)
    # padded patches change nothing and get zero pooling weight
    junk = data.patches.masked_fill(~data.patch_mask[..., None], 1e3)
    out2 = student(junk, data.patch_mask)
    assert torch.allclose(out.risk, out2.risk, atol=1e-5)
    assert (out.pool[~data.patch_mask] == 0).all()
    assert torch.allclose(out.pool.sum(1), torch.ones(24))


def test_teacher_attention_and_padding() -> None:
    data, pw = _toy()
    teacher = AMKDTeacher(6, pw, d=16, pathway_hidden=8, d_hidden=8).eval()
    out = teacher(data.patches, data.patch_mask, data.genes)
    b, n, p = 24, 9, 8
    assert out.g2p.shape == (b, n, 16)
    assert out.attn_g2p.shape == (b, n, p) and out.attn_p2g.shape == (b, p, n)
    assert torch.allclose(out.attn_g2p.sum(-1), torch.ones(b, n), atol=1e-5)
    assert (out.attn_p2g.permute(0, 2, 1)[~data.patch_mask] == 0).all()
    assert out.pool.shape == (b, p + n)
    junk = data.patches.masked_fill(~data.patch_mask[..., None], -7.0)
    assert torch.allclose(out.risk, teacher(junk, data.patch_mask, data.genes).risk, atol=1e-5)
    scores = teacher.pathway_attention(data.patches, data.patch_mask, data.genes)
    assert torch.allclose(scores.sum(1), torch.ones(b), atol=1e-5)
    mean_pool = AMKDTeacher(6, pw, d=16, pool="mean").eval()
    assert mean_pool(data.patches, data.patch_mask, data.genes).risk.shape == (b,)


def test_student_step_leaves_teacher_frozen() -> None:
    data, pw = _toy()
    teacher = AMKDTeacher(6, pw, d=16, pathway_hidden=8, d_hidden=8)
    student = AMKDStudent(6, teacher.d_g2p, d=16, d_enhance=8, d_hidden=8)
    t_out = teacher(data.patches, data.patch_mask, data.genes)  # teacher in the graph
    s_out = student(data.patches, data.patch_mask)
    losses = amkd_losses(s_out, t_out, data.time, data.event, data.patch_mask,
                         AMKDConfig(alpha=0.75))
    losses.total.backward()
    assert all(p.grad is None for p in teacher.parameters())
    grads = [p.grad for p in student.parameters()]
    assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.as_dict().values())


def test_ablation_switches() -> None:
    data, pw = _toy()
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


def test_cox_batches_all_have_events() -> None:
    ev = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0])
    batches = cox_batches(np.arange(12), ev, 3, np.random.default_rng(0))
    assert sorted(np.concatenate(batches).tolist()) == list(range(12))
    assert all(ev[b].any() for b in batches)
    with pytest.raises(ValueError, match="no observed event"):
        cox_batches(np.arange(3), np.zeros(3, dtype=int), 2, np.random.default_rng(0))


def test_fit_teacher_then_student_runs_and_keeps_teacher_fixed() -> None:
    data, pw = _toy(n=40)
    idx = np.arange(40)
    tr, va = idx[:30], idx[30:]
    torch.manual_seed(0)
    teacher = AMKDTeacher(6, pw, d=16, pathway_hidden=8, d_hidden=8)
    fit_teacher(teacher, data, tr, va, max_epochs=2, patience=None, batch_size=16)
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    student = AMKDStudent(6, teacher.d_g2p, d=16, d_enhance=8, d_hidden=8)
    summary = fit_student(student, teacher, data, tr, va,
                          AMKDConfig(max_epochs=2, patience=5, batch_size=16))
    assert len(summary.history) == 2
    assert {"ge", "kd", "surv", "arr"} <= set(summary.components.columns)
    after = teacher.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not any(p.requires_grad for p in teacher.parameters())
    risk = predict_risk(student, data, va)
    assert risk.shape == (10,) and np.isfinite(risk).all()


def test_mil_teacher_exposes_patch_features() -> None:
    mil = pytest.importorskip("survlib.models.mil")
    data, _ = _toy()
    abmil = MILTeacher(mil.ABMIL(6, n_bins=1, d_hidden=16, d_attn=8), "encoder", 16).eval()
    out = abmil(data.patches, data.patch_mask)
    assert out.risk.shape == (24,) and out.g2p.shape == (24, 9, 16)
    assert (out.g2p[~data.patch_mask] == 0).all()
    trans = MILTeacher(mil.TransMIL(6, n_bins=1, d=16, n_heads=2), "norm", 16).eval()
    out = trans(data.patches, data.patch_mask)
    assert out.g2p.shape == (24, 9, 16)


def test_paper_scale_student_fits_the_parameter_budget() -> None:
    # UNI features (1024-d) and the widths the chapter's Table 7 uses: <= 803 K parameters
    student = AMKDStudent(1024, 256, d=256, d_enhance=256, d_hidden=128, d_attn=128)
    n_params = sum(p.numel() for p in student.parameters())
    assert n_params <= 803_000
    small = AMKDStudent(8, 8, d=8, d_enhance=8, d_hidden=8)
    flops = student_flops(small, 8, 10)
    # projection 2*10*8*8 + q,k,v 3*2*10*8*8 + q k^T and a v 2*2*10*10*8 = 5,120 at least
    assert flops >= 5_120


def test_arr_warmup_switches_arr_on_later() -> None:
    data, pw = _toy(n=40)
    idx = np.arange(40)
    torch.manual_seed(0)
    teacher = AMKDTeacher(6, pw, d=16, pathway_hidden=8, d_hidden=8).eval()
    student = AMKDStudent(6, teacher.d_g2p, d=16, d_enhance=8, d_hidden=8)
    summary = fit_student(student, teacher, data, idx[:30], idx[30:],
                          AMKDConfig(alpha=0.5, arr_warmup=2, max_epochs=4, patience=None,
                                     batch_size=16))
    comps = summary.components.set_index("epoch")
    assert (comps.loc[[1, 2], "arr"] == 0).all()
    assert (comps.loc[[3, 4], "arr"] > 0).all()


def test_run_benchmark_fold_rows() -> None:
    from survlib.models.distill import BenchmarkSpec, run_benchmark_fold

    data, pw = _toy(n=48)
    idx = np.arange(48)
    spec = BenchmarkSpec(width=8, baselines=("SMLP",), alphas=(0.5, 1.0), mil_teachers=False,
                         max_epochs=1, patience=None, batch_size=16,
                         config=AMKDConfig(alpha=0.5, max_epochs=1, patience=None,
                                           batch_size=16))
    run = run_benchmark_fold(data, pw, idx[:28], idx[28:36], idx[36:42], idx[42:], spec)
    models = {r["model"] for r in run.rows}
    assert {"Teacher (multimodal)", "AMKD (alpha=0.5)", "AMKD (alpha=1)",
            "w/o L_ARR and L_GE", "Student, no teacher", "SMLP"} <= models
    metrics = {r["metric"] for r in run.rows}
    assert metrics == {"C-index", "C-index (external)"}
    assert set(run.models) == {"teacher", "AMKD"}
    assert set(run.risks["set"]) == {"test", "external"}
    assert all(0.0 <= r["value"] <= 1.0 for r in run.rows)


# --------------------------------------------------------------------------------------------
# The simulated external site (survlib.data.domain_shift)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_cohort():
    from survlib.data.multimodal import simulate_multimodal_cohort

    return simulate_multimodal_cohort(40, seed=3, n_pathways=6, n_genes=40, d_patch=8,
                                      patches_per_patient=(10, 20))


def test_split_external_is_disjoint_and_labelled(small_cohort) -> None:
    from survlib.data.domain_shift import split_external

    src, ext = split_external(small_cohort, 12, seed=0, case_mix=1.0)
    assert len(src) == 28 and len(ext) == 12
    assert not set(src.clinical.index) & set(ext.clinical.index)
    for c in (src, ext):
        assert c.attrs["simulated"] and c.clinical.attrs["simulated"]
        assert len(c.truth.risk) == len(c) == len(c.bags) == len(c.truth.planted)
    assert ext.attrs["site"] == "external"
    pos = {p: i for i, p in enumerate(small_cohort.clinical.index)}
    i0 = pos[ext.clinical.index[0]]
    assert np.array_equal(ext.bags[0], small_cohort.bags[i0])
    assert ext.truth.risk[0] == small_cohort.truth.risk[i0]
    with pytest.raises(ValueError, match="n_external"):
        split_external(small_cohort, 40)


def test_domain_shift_changes_what_it_says(small_cohort) -> None:
    from survlib.data.domain_shift import DomainShift, apply_domain_shift

    same = apply_domain_shift(small_cohort, DomainShift.none(), seed=0)
    assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(same.bags, small_cohort.bags))
    assert np.allclose(same.expression.to_numpy(), small_cohort.expression.to_numpy(),
                       atol=1e-3)
    assert np.array_equal(same.time, small_cohort.time)
    assert DomainShift().scaled(0.0) == replace_shift(DomainShift(), 0.0)

    shift = DomainShift(patch_fraction=0.5, max_follow_up=24.0)
    out = apply_domain_shift(small_cohort, shift, seed=1)
    sizes = np.array([len(b) for b in small_cohort.bags])
    assert np.array_equal([len(b) for b in out.bags], np.maximum(1, np.round(0.5 * sizes)))
    assert all(len(p) == len(b) for p, b in zip(out.truth.planted, out.bags))
    assert out.time.max() <= 24.0
    late = small_cohort.time > 24.0
    assert (out.event[late] == 0).all()
    assert np.array_equal(out.event[~late], small_cohort.event[~late])
    assert out.attrs["simulated"] and out.attrs["domain_shift"]["max_follow_up"] == 24.0
    moved = np.concatenate(out.bags).mean(0) - np.concatenate(small_cohort.bags).mean(0)
    assert np.abs(moved).max() > 0.05
    again = apply_domain_shift(small_cohort, shift, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(out.bags, again.bags))
    with pytest.raises(ValueError, match="patch_fraction"):
        DomainShift(patch_fraction=0.0)
    with pytest.raises(ValueError, match=">= 0"):
        DomainShift(encoder_noise=-1.0)


def replace_shift(shift, factor):
    from dataclasses import replace

    names = ("site_offset", "stain_mix", "stain_jitter", "encoder_noise", "gene_offset",
             "gene_scale", "gene_noise")
    return replace(shift, **{n: factor * getattr(shift, n) for n in names})


def test_concat_cohorts_keeps_order_and_source_statistics(small_cohort) -> None:
    from survlib.data.domain_shift import apply_domain_shift, concat_cohorts, split_external
    from survlib.data.multimodal import prepare_fold

    src, ext = split_external(small_cohort, 10, seed=0)
    ext = apply_domain_shift(ext, seed=0)
    both, a, b = concat_cohorts(src, ext)
    assert len(both) == 40 and list(a) == list(range(30)) and list(b) == list(range(30, 40))
    assert both.attrs["simulated"]
    assert np.array_equal(both.bags[30], ext.bags[0])
    fold = prepare_fold(both, a[:20])  # statistics from source training patients only
    ref = prepare_fold(src, np.arange(20))
    assert np.allclose(fold.patch_mean, ref.patch_mean)
    with pytest.raises(ValueError, match="share patient ids"):
        concat_cohorts(src, src)


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
        slope = {k: torch.autograd.grad(arr_readings(x, r)[k].sum(), x)[0]
                 for k in ARR_READINGS}
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
