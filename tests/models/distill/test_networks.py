"""AMKD's networks (survlib.models.distill.networks): shapes, masks, who sees what (the student's
forward takes the patches only), and a MIL model wrapped as a teacher."""

from __future__ import annotations

import inspect

import pytest
import torch

from survlib.models.distill import AMKDStudent, AMKDTeacher, MILTeacher
from tests.models.distill.toy import toy_data

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny models: one thread is faster


def test_student_forward_takes_pathology_only() -> None:
    params = list(inspect.signature(AMKDStudent.forward).parameters)
    assert params == ["self", "patches", "patch_mask"]
    assert AMKDStudent.inputs == ("patches", "patch_mask")
    data, pw = toy_data()
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
    data, pw = toy_data()
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


def test_mil_teacher_exposes_patch_features() -> None:
    mil = pytest.importorskip("survlib.models.mil")
    data, _ = toy_data()
    abmil = MILTeacher(mil.ABMIL(6, n_bins=1, d_hidden=16, d_attn=8), "encoder", 16).eval()
    out = abmil(data.patches, data.patch_mask)
    assert out.risk.shape == (24,) and out.g2p.shape == (24, 9, 16)
    assert (out.g2p[~data.patch_mask] == 0).all()
    trans = MILTeacher(mil.TransMIL(6, n_bins=1, d=16, n_heads=2), "norm", 16).eval()
    out = trans(data.patches, data.patch_mask)
    assert out.g2p.shape == (24, 9, 16)
