"""Chapter 3's side-by-side with the authors' scSurvival package: the paired differences of
``benchmarks/bench_vs_authors.py``'s runs and the chapter's tables.

The benchmark stores, per cohort size and seed, one run of the authors' package and one or more
survlib runs under labels (``survlib``: the defaults; other labels: the options they ran with,
recorded in each run's ``config``), each with its wall time, held-out C and risk-cell F1.
:func:`paired_differences` is the one computation of "run minus reference, paired by seed"
(the benchmark writes it into its JSON); :func:`side_by_side` turns a results file's cohorts
into the chapter's tables with it, over the seeds on which every shown method ran.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survlib.survival import bootstrap_mean_ci

__all__ = [
    "METRICS",
    "SCORES",
    "SideBySide",
    "cohort_label",
    "load_cohorts",
    "mean_ci",
    "paired_differences",
    "side_by_side",
]

#: the compared quantities, in the order of the tables
METRICS: dict[str, str] = {
    "heldout_c": "held-out C",
    "macro_f1": "macro F1",
    "binary_f1": "binary F1",
    "seconds": "wall s",
}
#: the quantities shown as paired differences (the wall time is shown as a speed-up)
SCORES = ("heldout_c", "macro_f1", "binary_f1")
AUTHORS = "authors"


def mean_ci(values: list[float]) -> tuple[float, float]:
    """The 95 % percentile bootstrap interval of the mean over seeds (NaN with fewer than 2)."""
    return bootstrap_mean_ci(values) if len(values) >= 2 else (float("nan"), float("nan"))


def _paired_seeds(runs: dict[str, Any], methods: list[str]) -> list[str]:
    return sorted((s for s, r in runs.items() if all(m in r for m in methods)), key=int)


def paired_differences(
    runs: dict[str, dict[str, Any]], method: str, reference: str = AUTHORS
) -> dict[str, Any]:
    """Run ``method`` minus run ``reference``, per metric of :data:`METRICS`, over the seeds of
    ``runs`` (``{seed: {label: {metric: value}}}``) that have both.

    Returns (JSON-ready) ``seeds``; per metric the per-seed ``diffs``, ``mean_diff``, the 95 %
    bootstrap interval over seeds ``ci_low``/``ci_high`` (:func:`mean_ci`) and
    ``survlib_better``, the seeds on which ``method`` did better (less time, higher scores);
    ``speedup``: per-seed ``ratios`` of reference / method seconds and their
    ``geometric_mean``.
    """
    seeds = _paired_seeds(runs, [method, reference])
    out: dict[str, Any] = {"seeds": [int(s) for s in seeds]}
    for metric in METRICS:
        diffs = [float(runs[s][method][metric] - runs[s][reference][metric]) for s in seeds]
        lo, hi = mean_ci(diffs)
        out[metric] = {
            "diffs": diffs,
            "mean_diff": float(np.mean(diffs)) if diffs else float("nan"),
            "ci_low": lo,
            "ci_high": hi,
            "survlib_better": int(sum(d < 0 if metric == "seconds" else d > 0 for d in diffs)),
        }
    ratios = [runs[s][reference]["seconds"] / runs[s][method]["seconds"] for s in seeds]
    out["speedup"] = {
        "ratios": ratios,
        "geometric_mean": float(np.exp(np.mean(np.log(ratios)))) if ratios else float("nan"),
    }
    return out


@dataclass
class SideBySide:
    """The side-by-side of one results file.

    Attributes:
        summary: index (cohort, method), columns ``seeds`` and the mean of every metric over
            the cohort's paired seeds.
        paired: index (cohort, method), per score of :data:`SCORES` its mean paired difference
            (method - reference), 95 % bootstrap interval over seeds (NaN with one seed) and
            the seeds on which the method did better; ``speedup``: the geometric mean over
            seeds of reference seconds / the method's seconds.
        per_seed: index (cohort, seed), columns (metric, method).
        reference: the method the differences are taken against.
    """

    summary: pd.DataFrame
    paired: pd.DataFrame
    per_seed: pd.DataFrame
    reference: str = AUTHORS

    @property
    def seeds(self) -> dict[str, list[int]]:
        """The paired seeds of every cohort shown."""
        if self.per_seed.empty:
            return {}
        return {c: [int(x) for x in self.per_seed.loc[c].index] for c in self.cohorts}

    @property
    def cohorts(self) -> list[str]:
        """The cohorts shown, largest first."""
        if self.summary.empty:
            return []
        return list(dict.fromkeys(self.summary.index.get_level_values("cohort")))

    def headline(self, cohort: str | None, method: str) -> dict[str, Any]:
        """One paired row as the values a chapter glues: per score ``k`` of :data:`SCORES`,
        ``{k}_diff`` (mean difference, 3 decimals), ``{k}_ci`` (``"[lo, hi]"``), ``{k}_better``
        (seeds better), ``{k}_survlib`` (the method's mean) and ``{k}_reference`` (the
        reference's mean over the same seeds); ``speedup`` (1 decimal), ``time_ratio`` (its
        inverse: seconds with / without, 2 decimals), ``seeds`` and ``cohort``. Every value is
        ``"n/a"`` when ``(cohort, method)`` was not run."""
        have = cohort is not None and (cohort, method) in self.paired.index
        parts = ("diff", "ci", "better", "survlib", "reference")
        keys = [f"{k}_{part}" for k in SCORES for part in parts]
        if not have:
            return {
                **dict.fromkeys([*keys, "speedup", "time_ratio", "seeds"], "n/a"),
                "cohort": cohort or "n/a",
            }
        row, mean = self.paired.loc[(cohort, method)], self.summary.loc[(cohort, method)]
        ref_mean = self.summary.loc[(cohort, self.reference)]  # over the same (common) seeds
        out: dict[str, Any] = {}
        for k in SCORES:
            col = METRICS[k]
            out[f"{k}_diff"] = round(float(row[(col, "mean diff")]), 3)
            out[f"{k}_ci"] = f"[{row[(col, 'CI low')]:.3f}, {row[(col, 'CI high')]:.3f}]"
            out[f"{k}_better"] = int(row[(col, "seeds better")])
            out[f"{k}_survlib"] = round(float(mean[col]), 3)
            out[f"{k}_reference"] = round(float(ref_mean[col]), 3)
        speedup = float(row[("speedup", "× (geo. mean)")])
        out["speedup"], out["time_ratio"] = round(speedup, 1), round(1 / speedup, 2)
        out["seeds"], out["cohort"] = int(mean["seeds"]), cohort
        return out

    def differences(self, cohort: str, method: str, metric: str) -> np.ndarray:
        """Per-seed ``method`` minus reference of ``metric`` on ``cohort`` (for plots)."""
        col = METRICS[metric]
        rows = self.per_seed.loc[cohort]
        return (rows[(col, method)] - rows[(col, self.reference)]).to_numpy(dtype=float)


def load_cohorts(path: str | Path) -> dict[str, Any]:
    """The ``cohorts`` of a ``bench_vs_authors.py`` JSON ({} when the file does not exist)."""
    path = Path(path)
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or not isinstance(data.get("cohorts"), dict):
        raise ValueError(f"{path} is not a bench_vs_authors.py results file (no 'cohorts')")
    return data["cohorts"]


def cohort_label(settings: dict[str, Any]) -> str:
    """E.g. ``"60 patients × 100 cells (40 train / 20 held out)"``."""
    n, n_train = int(settings["n_patients"]), int(settings["n_train"])
    return (
        f"{n} patients × {settings['cells_per_patient']} cells "
        f"({n_train} train / {n - n_train} held out)"
    )


def side_by_side(
    cohorts: dict[str, Any],
    labels: tuple[str, ...] = ("survlib", "survlib_before"),
    reference: str = AUTHORS,
    seeds: Sequence[int] | None = None,
) -> SideBySide:
    """The chapter's tables from a results file's ``cohorts`` (see :func:`load_cohorts`).

    Args:
        cohorts: ``{key: {"settings": ..., "runs": {seed: {method: {metric: value}}}}}``.
        labels: the runs to show, in this order; a label that no seed of a cohort has is left
            out for that cohort.
        reference: the run every label is paired against (shown too): the authors' package,
            or e.g. ``"base"`` for an ablation.
        seeds: only these seeds (None: every seed), e.g. the seeds of a first report and
            those added later, shown apart.

    Cohorts are ordered by patients, largest first; a cohort without any seed on which the
    reference and a shown label ran is left out.
    """
    summary_rows, paired_rows, per_seed_rows = [], [], []
    order = sorted(cohorts, key=lambda k: -int(cohorts[k]["settings"]["n_patients"]))
    wanted = None if seeds is None else {str(int(s)) for s in seeds}
    for key in order:
        runs = cohorts[key].get("runs", {})
        if wanted is not None:
            runs = {s: r for s, r in runs.items() if s in wanted}
        present = [lab for lab in labels if any(lab in r for r in runs.values())]
        methods = [*present, reference]
        both = _paired_seeds(runs, methods)
        if not present or not both:
            continue
        name = cohort_label(cohorts[key]["settings"])
        common = {s: runs[s] for s in both}
        for method in methods:
            means = {
                METRICS[m]: float(np.mean([common[s][method][m] for s in both])) for m in METRICS
            }
            summary_rows.append({"cohort": name, "method": method, "seeds": len(both), **means})
        for s in both:
            values = {(METRICS[m], meth): common[s][meth][m] for m in METRICS for meth in methods}
            per_seed_rows.append({"cohort": name, "seed": int(s), **values})
        for method in present:
            pair = paired_differences(common, method, reference)
            row: dict[Any, Any] = {"cohort": name, "method": method}
            for m in SCORES:
                row[(METRICS[m], "mean diff")] = pair[m]["mean_diff"]
                row[(METRICS[m], "CI low")] = pair[m]["ci_low"]
                row[(METRICS[m], "CI high")] = pair[m]["ci_high"]
                row[(METRICS[m], "seeds better")] = pair[m]["survlib_better"]
            row[("speedup", "× (geo. mean)")] = pair["speedup"]["geometric_mean"]
            paired_rows.append(row)
    if not summary_rows:
        empty = pd.DataFrame()
        return SideBySide(empty, empty, empty, reference)
    summary = pd.DataFrame(summary_rows).set_index(["cohort", "method"])
    paired = pd.DataFrame(paired_rows).set_index(["cohort", "method"])
    paired.columns = pd.MultiIndex.from_tuples(paired.columns)
    per_seed = pd.DataFrame(per_seed_rows).set_index(["cohort", "seed"])
    per_seed.columns = pd.MultiIndex.from_tuples(per_seed.columns, names=["metric", "method"])
    return SideBySide(summary, paired, per_seed, reference)
