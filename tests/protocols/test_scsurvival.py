"""survlib.protocols.scsurvival: the scaling benchmark reports every stage and cleans up; the
least-squares line of the scaling plots (hand-computed)."""

from __future__ import annotations

import pytest

from survlib.protocols.scsurvival import benchmark_run, linear_fit
from tests.models.sc.helpers import TINY

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_linear_fit():
    fit = linear_fit([1, 2, 3, 4], [3, 5, 7, 9])
    assert (
        fit["slope"] == pytest.approx(2)
        and fit["intercept"] == pytest.approx(1)
        and fit["r2"] == pytest.approx(1)
    )


def test_benchmark_run_reports_every_stage(tmp_path):
    res = benchmark_run(
        8,
        20,
        60,
        setting="distinct",
        workdir=str(tmp_path),
        **{
            k: v
            for k, v in TINY.items()
            if k in ("pretrain_steps", "amicr_steps", "finetune_steps", "n_latent", "n_hidden")
        },
    )
    assert {
        "simulate",
        "load",
        "setup",
        "checks",
        "pretrain",
        "amicr",
        "finetune",
        "predict",
        "identify",
    } <= set(res["stages"])
    assert all(v["seconds"] >= 0 and v["peak_rss_mb"] > 0 for v in res["stages"].values())
    assert res["cells_per_second"] > 0 and res["device"] == "cpu"
    assert not list(tmp_path.glob("*.h5ad"))  # the temporary cohort file is removed


def test_benchmark_run_reuses_a_kept_cohort_file(tmp_path):
    tiny = {k: TINY[k] for k in ("pretrain_steps", "amicr_steps", "finetune_steps", "n_latent")}
    first = benchmark_run(6, 15, 60, workdir=str(tmp_path), keep_file=True, isolate=False, **tiny)
    kept = first["cohort_file"]
    assert kept and list(tmp_path.glob("*.h5ad")) == [tmp_path / kept.split("/")[-1]]
    assert not first["cohort_reused"] and "simulate" in first["stages"]
    again = benchmark_run(6, 15, 60, cohort_file=kept, isolate=False, **tiny)
    assert again["cohort_reused"] and again["cohort_file"] == kept
    assert "simulate" not in again["stages"] and {"load", "finetune", "identify"} <= set(
        again["stages"]
    )
    assert again["n_cells"] == first["n_cells"]
    assert list(tmp_path.glob("*.h5ad")) == [tmp_path / kept.split("/")[-1]]  # left in place
    with pytest.raises(FileNotFoundError, match="cohort_file 'nope.h5ad'"):
        benchmark_run(6, 15, 60, cohort_file="nope.h5ad")
    with pytest.raises(ValueError, match="backed=True"):
        benchmark_run(6, 15, 60, backed=False, cohort_file=kept)
