"""Chapter 6's benchmark (survlib.protocols.amkd): one fold trains every table's models and
returns tidy rows, risks and the trained teacher and student."""

from __future__ import annotations

import numpy as np
import pytest

from survlib.models.distill import AMKDConfig
from survlib.protocols.amkd import BenchmarkSpec, run_benchmark_fold
from tests.models.distill.toy import toy_data

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny models: one thread is faster


def test_run_benchmark_fold_rows() -> None:
    data, pw = toy_data(n=48)
    idx = np.arange(48)
    spec = BenchmarkSpec(
        width=8,
        baselines=("SMLP",),
        alphas=(0.5, 1.0),
        mil_teachers=False,
        max_epochs=1,
        patience=None,
        batch_size=16,
        config=AMKDConfig(alpha=0.5, max_epochs=1, patience=None, batch_size=16),
    )
    run = run_benchmark_fold(data, pw, idx[:28], idx[28:36], idx[36:42], idx[42:], spec)
    models = {r["model"] for r in run.rows}
    assert {
        "Teacher (multimodal)",
        "AMKD (alpha=0.5)",
        "AMKD (alpha=1)",
        "w/o L_ARR and L_GE",
        "Student, no teacher",
        "SMLP",
    } <= models
    metrics = {r["metric"] for r in run.rows}
    assert metrics == {"C-index", "C-index (external)"}
    assert set(run.models) == {"teacher", "AMKD"}
    assert set(run.risks["set"]) == {"test", "external"}
    assert all(0.0 <= r["value"] <= 1.0 for r in run.rows)


def test_widest_student_within_a_parameter_budget() -> None:
    from survlib.models import count_parameters
    from survlib.protocols.amkd import student_at_width, widest_student_within

    width = widest_student_within(803_000)
    assert width % 8 == 0
    assert count_parameters(student_at_width(width)) <= 803_000
    assert count_parameters(student_at_width(width + 8)) > 803_000
