"""survlib.protocols.authors_comparison: chapter 3's side-by-side tables agree with the
benchmark's own paired summary (benchmarks/bench_vs_authors.py) and with hand-computed means."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survlib.protocols.authors_comparison import METRICS, load_cohorts, side_by_side
from survlib.survival import bootstrap_mean_ci

# the benchmark's per-seed bootstrap of C on 6 toy patients meets resamples without a pair
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_vs_authors.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_vs_authors_for_tables", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(rng: np.random.Generator, c: float, seconds: float) -> dict:
    return {
        "seconds": seconds,
        "heldout_c": c,
        "macro_f1": float(rng.uniform(0.4, 0.9)),
        "binary_f1": float(rng.uniform(0.2, 0.9)),
        "heldout_risk": rng.normal(size=6).tolist(),
    }


def _cohort(n_patients: int, seeds: list[int], rng: np.random.Generator) -> dict:
    runs = {}
    for s in seeds:
        runs[str(s)] = {
            "heldout_time": rng.uniform(1, 50, 6).tolist(),
            "heldout_event": [1, 0, 1, 1, 0, 1],
            "authors": _run(rng, float(rng.uniform(0.5, 0.8)), 200.0 + s),
            "survlib": _run(rng, float(rng.uniform(0.5, 0.8)), 40.0 + s),
            "survlib_before": _run(rng, float(rng.uniform(0.5, 0.8)), 30.0 + s),
        }
    runs.setdefault("99", {})["survlib"] = _run(rng, 0.9, 1.0)  # no authors' run: not paired
    settings = {"n_patients": n_patients, "cells_per_patient": 50, "n_genes": 500}
    return {"settings": {**settings, "n_train": round(2 * n_patients / 3)}, "runs": runs}


def test_side_by_side_matches_the_benchmark_summary(tmp_path: Path) -> None:
    bench, rng = _bench(), np.random.default_rng(0)
    cohorts = {"40x50x500": _cohort(40, [7, 11, 23], rng), "60x50x500": _cohort(60, [7, 11], rng)}
    for cohort in cohorts.values():
        bench.summarise(cohort)
    path = tmp_path / "vs.json"
    path.write_text(json.dumps({"cohorts": cohorts}))
    table = side_by_side(load_cohorts(path), ("survlib_before", "survlib"))
    names = list(table.seeds)
    assert names == [
        "60 patients × 50 cells (40 train / 20 held out)",
        "40 patients × 50 cells (27 train / 13 held out)",
    ]  # largest first
    small = names[1]
    assert table.seeds[small] == [7, 11, 23]  # seed 99 has no authors' run
    for label in ("survlib", "survlib_before"):
        ref = cohorts["40x50x500"]["paired"][label]
        row = table.paired.loc[(small, label)]
        for metric, col in (("heldout_c", "held-out C"), ("macro_f1", "macro F1")):
            assert row[(col, "mean diff")] == pytest.approx(ref[metric]["mean_diff"])
            assert row[(col, "CI low")] == pytest.approx(ref[metric]["ci_low"])
            assert row[(col, "CI high")] == pytest.approx(ref[metric]["ci_high"])
            assert row[(col, "seeds better")] == ref[metric]["survlib_better"]
        assert row[("speedup", "× (geo. mean)")] == pytest.approx(ref["speedup"]["geometric_mean"])
    runs = cohorts["40x50x500"]["runs"]
    mean_c = np.mean([runs[s]["authors"]["heldout_c"] for s in ("7", "11", "23")])
    assert table.summary.loc[(small, "authors"), "held-out C"] == pytest.approx(mean_c)
    assert table.summary.loc[(small, "authors"), "seeds"] == 3
    assert table.per_seed.loc[(small, 11), ("wall s", "survlib")] == pytest.approx(51.0)
    assert table.differences(small, "survlib", "heldout_c")[0] == pytest.approx(
        runs["7"]["survlib"]["heldout_c"] - runs["7"]["authors"]["heldout_c"]
    )
    # the benchmark now takes its differences from the same function, so check them by hand too
    seeds = ("7", "11", "23")
    d = [runs[k]["survlib"]["macro_f1"] - runs[k]["authors"]["macro_f1"] for k in seeds]
    row = table.paired.loc[(small, "survlib")]
    assert row[("macro F1", "mean diff")] == pytest.approx(np.mean(d))
    lo, hi = bootstrap_mean_ci(d)
    assert (row[("macro F1", "CI low")], row[("macro F1", "CI high")]) == pytest.approx((lo, hi))
    assert row[("macro F1", "seeds better")] == sum(x > 0 for x in d)
    ratios = [(200.0 + int(k)) / (40.0 + int(k)) for k in seeds]  # the times _cohort planted
    assert row[("speedup", "× (geo. mean)")] == pytest.approx(np.prod(ratios) ** (1 / 3))


def test_side_by_side_leaves_out_what_was_not_run(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    cohort = _cohort(40, [7, 11], rng)
    for r in cohort["runs"].values():
        r.pop("survlib_before", None)
    table = side_by_side({"k": cohort})
    (name,) = table.seeds
    assert list(table.paired.index) == [(name, "survlib")]  # no before-run: not shown
    assert side_by_side({}).summary.empty
    assert load_cohorts(tmp_path / "absent.json") == {}
    (tmp_path / "bad.json").write_text("[]")
    with pytest.raises(ValueError, match="bad.json is not a bench_vs_authors.py results file"):
        load_cohorts(tmp_path / "bad.json")


def test_headline_is_the_paired_row_rounded_for_the_chapter(tmp_path: Path) -> None:
    bench, rng = _bench(), np.random.default_rng(2)
    cohort = _cohort(40, [7, 11, 23], rng)
    bench.summarise(cohort)
    table = side_by_side({"40x50x500": cohort}, ("survlib_before", "survlib"))
    (name,) = table.seeds
    ref, runs = cohort["paired"]["survlib"], cohort["runs"]
    got = table.headline(name, "survlib")
    assert got["heldout_c_diff"] == round(ref["heldout_c"]["mean_diff"], 3)
    lo, hi = ref["macro_f1"]["ci_low"], ref["macro_f1"]["ci_high"]
    assert got["macro_f1_ci"] == f"[{lo:.3f}, {hi:.3f}]"
    assert got["binary_f1_better"] == ref["binary_f1"]["survlib_better"]
    mean_c = np.mean([runs[s]["survlib"]["heldout_c"] for s in ("7", "11", "23")])
    assert got["heldout_c_survlib"] == round(mean_c, 3)
    mean_f1 = np.mean([runs[s]["authors"]["macro_f1"] for s in ("7", "11", "23")])
    assert got["macro_f1_reference"] == round(mean_f1, 3)
    assert got["speedup"] == round(ref["speedup"]["geometric_mean"], 1)
    assert got["time_ratio"] == round(1 / ref["speedup"]["geometric_mean"], 2)
    assert (got["seeds"], got["cohort"]) == (3, name)
    for absent in (table.headline(name, "survlib_uncapped"), table.headline(None, "survlib")):
        assert set(absent) == set(got)
        assert {v for k, v in absent.items() if k != "cohort"} == {"n/a"}
    assert table.headline(None, "survlib")["cohort"] == "n/a"


def test_side_by_side_on_a_subset_of_seeds_is_the_table_of_those_seeds_alone() -> None:
    """``seeds=`` shows the same tables as a results file that holds only those seeds; an
    empty subset shows nothing."""
    bench, rng = _bench(), np.random.default_rng(3)
    cohort = _cohort(40, [7, 11, 23, 101], rng)
    only = {k: v for k, v in cohort.items() if k != "runs"}
    only["runs"] = {s: cohort["runs"][s] for s in ("11", "101")}
    got = side_by_side({"c": cohort}, ("survlib",), seeds=[101, 11])
    want = side_by_side({"c": only}, ("survlib",))
    assert got.seeds == want.seeds and list(got.seeds.values()) == [[11, 101]]
    pd.testing.assert_frame_equal(got.summary, want.summary)
    pd.testing.assert_frame_equal(got.paired, want.paired)
    mean_c = np.mean([cohort["runs"][s]["survlib"]["heldout_c"] for s in ("11", "101")])
    (name,) = got.cohorts
    assert got.summary.loc[(name, "survlib"), METRICS["heldout_c"]] == pytest.approx(mean_c)
    bench.summarise(only)
    assert got.headline(name, "survlib")["heldout_c_diff"] == round(
        only["paired"]["survlib"]["heldout_c"]["mean_diff"], 3
    )
    assert side_by_side({"c": cohort}, ("survlib",), seeds=[5]).cohorts == []
