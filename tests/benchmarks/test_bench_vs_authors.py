"""benchmarks/bench_vs_authors.py: a tiny side-by-side run against the authors' scSurvival.

The JSON holds both methods per seed, the paired differences are survlib minus authors of the
per-seed values, reruns skip what is done, and without the authors' package the script says so.
The authors' runs need their package (``../shared/anchors`` or ``$SURVLIB_ANCHORS``): those
tests are skipped without it.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    spec = importlib.util.spec_from_file_location(name, BENCH_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load("bench_vs_authors")
anchors = _load("_anchors")

TINY = [
    "--patients", "9", "--cells-per-patient", "20", "--genes", "50",
    "--authors-pretrain-epochs", "2", "--authors-epochs", "3",
    "--survlib-config", json.dumps({"pretrain_steps": 20, "amicr_steps": 10,
                                    "finetune_steps": 5}),
]  # fmt: skip


def _have_anchors() -> bool:
    try:
        anchors.import_authors_scsurvival()
    except anchors.AnchorsMissing:
        return False
    return True


needs_anchors = pytest.mark.skipif(
    not _have_anchors(), reason="the authors' scSurvival package (../shared/anchors) is absent"
)


def test_split_is_stratified_and_disjoint():
    train, test = bench.simulate_split(12, 15, 50, 5000.0, 8, seed=3)
    tr = set(train.obs["patient_id"].astype(str))
    te = set(test.obs["patient_id"].astype(str))
    assert len(tr) == 8 and len(te) == 4 and not tr & te
    t, e, ids = bench._survival_of(test)
    assert sorted(ids) == sorted(te) and t.shape == e.shape == (4,)
    e_train = bench._survival_of(train)[1]
    assert abs(e_train.sum() - 8 * (e_train.sum() + e.sum()) / 12) <= 1  # events split 2:1
    with pytest.raises(ValueError, match="n_train"):
        bench.simulate_split(12, 15, 50, 5000.0, 12, seed=3)


def test_mean_ci_over_seeds():
    values = [-0.2, 0.0, 0.1, 0.3, 0.5]
    lo, hi = bench.mean_ci(values)
    assert min(values) <= lo < np.mean(values) < hi <= max(values)
    assert all(np.isnan(bench.mean_ci([0.3])))  # one seed: no interval, no error


def test_missing_anchors_skip_with_a_message(tmp_path, capsys):
    rc = bench.main(["--anchors", str(tmp_path), "--out", str(tmp_path / "x.json"), *TINY])
    assert rc == 2
    assert "not at" in capsys.readouterr().err and not (tmp_path / "x.json").exists()
    with pytest.raises(ValueError, match="--methods"):
        bench.parse_args(["--methods", "survlib,theirs"])


@needs_anchors
def test_tiny_side_by_side_json(tmp_path):
    out = tmp_path / "vs.json"
    assert bench.main(["--seeds", "1,2", "--out", str(out), *TINY]) == 0
    data = json.loads(out.read_text())
    assert data["benchmark"] == "scsurvival_vs_authors" and "machine" in data
    cohort = data["cohorts"]["9x20x50"]
    assert cohort["settings"]["n_train"] == 6
    runs, paired = cohort["runs"], cohort["paired"]["survlib"]
    assert sorted(runs) == ["1", "2"] and paired["seeds"] == [1, 2]
    for run in runs.values():
        assert len(run["heldout_time"]) == len(run["survlib"]["heldout_risk"]) == 3
        assert len(run["authors"]["heldout_risk"]) == 3
        for method in ("survlib", "authors"):
            r = run[method]
            assert r["seconds"] > 0 and 0 <= r["heldout_c"] <= 1
            assert 0 <= r["macro_f1"] <= 1 and r["macro_f1"] == r["scores"]["macro_f1"]
        assert run["survlib"]["config"]["finetune_steps"] == 5
    for metric in bench.METRICS:
        expected = [runs[s]["survlib"][metric] - runs[s]["authors"][metric] for s in ("1", "2")]
        assert paired[metric]["diffs"] == pytest.approx(expected)
        assert paired[metric]["mean_diff"] == pytest.approx(np.mean(expected))
        assert paired[metric]["ci_low"] <= paired[metric]["mean_diff"] <= paired[metric]["ci_high"]
    ratios = [runs[s]["authors"]["seconds"] / runs[s]["survlib"]["seconds"] for s in ("1", "2")]
    assert paired["speedup"]["ratios"] == pytest.approx(ratios)
    summary = cohort["summary"]["authors"]["heldout_c"]["mean"]
    assert summary == pytest.approx(np.mean([runs[s]["authors"]["heldout_c"] for s in runs]))
    # a rerun skips what is done; an ablation borrows the authors' runs from that file
    before = out.read_text()
    assert bench.main(["--seeds", "1,2", "--out", str(out), *TINY]) == 0
    assert json.loads(out.read_text())["cohorts"] == json.loads(before)["cohorts"]
    abl = tmp_path / "abl.json"
    variants = json.dumps({"short": {"pretrain_steps": 20, "amicr_steps": 5, "finetune_steps": 2}})
    argv = ["--seeds", "1", "--methods", "survlib", "--variants", variants,
            "--authors-from", str(out), "--out", str(abl), *TINY]  # fmt: skip
    assert bench.main(argv) == 0
    borrowed = json.loads(abl.read_text())["cohorts"]["9x20x50"]
    assert borrowed["runs"]["1"]["authors"]["heldout_c"] == runs["1"]["authors"]["heldout_c"]
    assert borrowed["paired"]["short"]["seeds"] == [1]


def test_paired_summary_against_a_reference_run():
    """Differences are label minus reference per seed; the speedup is reference / label time."""
    t, e = [1.0, 2.0, 3.0, 4.0], [1, 1, 0, 1]

    def run(c, f, sec, risk):
        return {"seconds": sec, "heldout_c": c, "macro_f1": f, "binary_f1": f, "heldout_risk": risk}

    runs = {
        "1": {"heldout_time": t, "heldout_event": e, "base": run(0.6, 0.5, 10.0, [4, 3, 2, 1]),
              "new": run(0.7, 0.4, 5.0, [1, 2, 3, 4])},
        "2": {"heldout_time": t, "heldout_event": e, "base": run(0.5, 0.5, 10.0, [4, 3, 2, 1]),
              "new": run(0.8, 0.6, 20.0, [4, 3, 2, 1])},
    }  # fmt: skip
    cohort = {"runs": runs}
    bench.summarise(cohort)
    paired = cohort["paired_vs_base"]["new"]
    assert paired["heldout_c"]["diffs"] == pytest.approx([0.1, 0.3])
    assert paired["macro_f1"]["survlib_better"] == 1 and paired["seconds"]["survlib_better"] == 1
    assert paired["speedup"]["geometric_mean"] == pytest.approx(1.0)  # 2x and 0.5x
    per_seed = paired["heldout_c_paired_bootstrap_per_seed"]["1"]
    assert per_seed["diff"] == pytest.approx(-1.0)  # reversed ranking of a perfect one
    assert cohort["paired"]["new"]["seeds"] == []  # no authors' runs: nothing paired
