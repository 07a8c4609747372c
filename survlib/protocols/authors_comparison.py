"""Chapter 3's side-by-side with the authors' scSurvival package: the tables of
``benchmarks/bench_vs_authors.py``'s JSON.

The benchmark stores, per cohort size and seed, one run of the authors' package and one or more
survlib runs (``survlib``: the current defaults; ``survlib_before``: the defaults before a
change), each with its wall time, held-out C and risk-cell F1. :func:`side_by_side` turns the
cohorts of that JSON into the chapter's tables, paired by seed: every figure is computed from
the runs, over the seeds on which every shown method ran.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survlib.survival import bootstrap_mean_ci

__all__ = ["METRICS", "SideBySide", "cohort_label", "load_cohorts", "side_by_side"]

#: the compared quantities, in the order of the tables
METRICS: dict[str, str] = {
    "heldout_c": "held-out C",
    "macro_f1": "macro F1",
    "binary_f1": "binary F1",
    "seconds": "wall s",
}
AUTHORS = "authors"


@dataclass
class SideBySide:
    """The side-by-side of one results file.

    Attributes:
        summary: index (cohort, method), columns ``seeds`` and the mean of every metric over
            the cohort's paired seeds.
        paired: index (cohort, method), per metric of :data:`METRICS` but the wall time its
            mean paired difference (method - authors), 95 % percentile bootstrap interval over
            seeds (NaN with one seed) and the seeds on which the method did better; ``speedup``
            is the geometric mean over seeds of authors' seconds / the method's seconds.
        per_seed: index (cohort, seed), columns (metric, method).
        diffs: ``diffs[cohort][method][metric]``: the per-seed differences (for plots).
        seeds: ``seeds[cohort]``: the paired seeds.
    """

    summary: pd.DataFrame
    paired: pd.DataFrame
    per_seed: pd.DataFrame
    diffs: dict[str, dict[str, dict[str, list[float]]]] = field(default_factory=dict)
    seeds: dict[str, list[int]] = field(default_factory=dict)


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


def _paired_seeds(runs: dict[str, Any], methods: list[str]) -> list[str]:
    return sorted((s for s, r in runs.items() if all(m in r for m in methods)), key=int)


def side_by_side(
    cohorts: dict[str, Any], labels: tuple[str, ...] = ("survlib_before", "survlib")
) -> SideBySide:
    """The chapter's tables from a results file's ``cohorts`` (see :func:`load_cohorts`).

    Args:
        cohorts: ``{key: {"settings": ..., "runs": {seed: {method: {metric: value}}}}}``.
        labels: the survlib runs to show, in this order; a label that no seed of a cohort has
            is left out for that cohort. The authors' runs are always shown.

    Cohorts ordered by patients, largest first; a cohort without any seed on which the
    authors and a shown label ran is left out.
    """
    summary_rows, paired_rows, per_seed_rows = [], [], []
    diffs: dict[str, dict[str, dict[str, list[float]]]] = {}
    seeds_of: dict[str, list[int]] = {}
    order = sorted(cohorts, key=lambda k: -int(cohorts[k]["settings"]["n_patients"]))
    for key in order:
        cohort = cohorts[key]
        runs = cohort.get("runs", {})
        present = [lab for lab in labels if any(lab in r for r in runs.values())]
        methods = [*present, AUTHORS]
        seeds = _paired_seeds(runs, methods)
        if not present or not seeds:
            continue
        name = cohort_label(cohort["settings"])
        seeds_of[name] = [int(s) for s in seeds]
        for method in methods:
            values = {m: [float(runs[s][method][m]) for s in seeds] for m in METRICS}
            summary_rows.append(
                {
                    "cohort": name,
                    "method": method,
                    "seeds": len(seeds),
                    **{METRICS[m]: float(np.mean(v)) for m, v in values.items()},
                }
            )
        for s in seeds:
            per_seed_rows.append(
                {
                    "cohort": name,
                    "seed": int(s),
                    **{(METRICS[m], meth): runs[s][meth][m] for m in METRICS for meth in methods},
                }
            )
        diffs[name] = {}
        for method in present:
            row: dict[str, Any] = {"cohort": name, "method": method}
            diffs[name][method] = {}
            for m in ("heldout_c", "macro_f1", "binary_f1"):
                d = [float(runs[s][method][m] - runs[s][AUTHORS][m]) for s in seeds]
                lo, hi = bootstrap_mean_ci(d) if len(d) >= 2 else (float("nan"),) * 2
                diffs[name][method][m] = d
                row.update(
                    {
                        (METRICS[m], "mean diff"): float(np.mean(d)),
                        (METRICS[m], "CI low"): lo,
                        (METRICS[m], "CI high"): hi,
                        (METRICS[m], "seeds better"): int(sum(x > 0 for x in d)),
                    }
                )
            ratios = [runs[s][AUTHORS]["seconds"] / runs[s][method]["seconds"] for s in seeds]
            row[("speedup", "× (geo. mean)")] = float(np.exp(np.mean(np.log(ratios))))
            paired_rows.append(row)
    summary = pd.DataFrame(summary_rows)
    paired = pd.DataFrame(paired_rows)
    per_seed = pd.DataFrame(per_seed_rows)
    if summary_rows:
        summary = summary.set_index(["cohort", "method"])
        paired = paired.set_index(["cohort", "method"])
        paired.columns = pd.MultiIndex.from_tuples(paired.columns)
        per_seed = per_seed.set_index(["cohort", "seed"])
        per_seed.columns = pd.MultiIndex.from_tuples(per_seed.columns, names=["metric", "method"])
    return SideBySide(summary, paired, per_seed, diffs, seeds_of)
