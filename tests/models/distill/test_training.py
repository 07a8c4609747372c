"""AMKD's training (survlib.models.distill.training): Cox mini-batches with events, the teacher
then the student through survlib.train.fit (the teacher stays fixed), and the L_ARR warm-up."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from survlib.models import predict_risk
from survlib.models.distill import (
    AMKDConfig,
    AMKDStudent,
    AMKDTeacher,
    cox_batches,
    fit_student,
    fit_teacher,
)
from tests.models.distill.toy import toy_data

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny models: one thread is faster


def test_cox_batches_all_have_events() -> None:
    ev = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0])
    batches = cox_batches(np.arange(12), ev, 3, np.random.default_rng(0))
    assert sorted(np.concatenate(batches).tolist()) == list(range(12))
    assert all(ev[b].any() for b in batches)
    with pytest.raises(ValueError, match="no observed event"):
        cox_batches(np.arange(3), np.zeros(3, dtype=int), 2, np.random.default_rng(0))


def test_fit_teacher_then_student_runs_and_keeps_teacher_fixed() -> None:
    data, pw = toy_data(n=40)
    idx = np.arange(40)
    tr, va = idx[:30], idx[30:]
    torch.manual_seed(0)
    teacher = AMKDTeacher(6, pw, d=16, pathway_hidden=8, d_hidden=8)
    fit_teacher(teacher, data, tr, va, max_epochs=2, patience=None, batch_size=16)
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    student = AMKDStudent(6, teacher.d_g2p, d=16, d_enhance=8, d_hidden=8)
    summary = fit_student(
        student, teacher, data, tr, va, AMKDConfig(max_epochs=2, patience=5, batch_size=16)
    )
    assert len(summary.history) == 2
    assert {"ge", "kd", "surv", "arr"} <= set(summary.components.columns)
    after = teacher.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not any(p.requires_grad for p in teacher.parameters())
    risk = predict_risk(student, data, va)
    assert risk.shape == (10,) and np.isfinite(risk).all()


def test_arr_warmup_switches_arr_on_later() -> None:
    data, pw = toy_data(n=40)
    idx = np.arange(40)
    torch.manual_seed(0)
    teacher = AMKDTeacher(6, pw, d=16, pathway_hidden=8, d_hidden=8).eval()
    student = AMKDStudent(6, teacher.d_g2p, d=16, d_enhance=8, d_hidden=8)
    summary = fit_student(
        student,
        teacher,
        data,
        idx[:30],
        idx[30:],
        AMKDConfig(alpha=0.5, arr_warmup=2, max_epochs=4, patience=None, batch_size=16),
    )
    comps = summary.components.set_index("epoch")
    assert (comps.loc[[1, 2], "arr"] == 0).all()
    assert (comps.loc[[3, 4], "arr"] > 0).all()
