"""The deployable student's size and cost (survlib.models.distill.cost)."""

from __future__ import annotations

import pytest

from survlib.models.distill import AMKDStudent, student_flops

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny models: one thread is faster


def test_paper_scale_student_fits_the_parameter_budget() -> None:
    # UNI features (1024-d) and the widths the chapter's Table 7 uses: <= 803 K parameters
    student = AMKDStudent(1024, 256, d=256, d_enhance=256, d_hidden=128, d_attn=128)
    n_params = sum(p.numel() for p in student.parameters())
    assert n_params <= 803_000
    small = AMKDStudent(8, 8, d=8, d_enhance=8, d_hidden=8)
    flops = student_flops(small, 8, 10)
    # projection 2*10*8*8 + q,k,v 3*2*10*8*8 + q k^T and a v 2*2*10*10*8 = 5,120 at least
    assert flops >= 5_120
