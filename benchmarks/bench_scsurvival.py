"""Benchmark scSurvival: seconds and peak memory per stage, cells per second, linearity.

One run::

    .venv/bin/python benchmarks/bench_scsurvival.py --patients 100 --cells-per-patient 1000 \\
        --genes 2000 --preset fast --out benchmarks/results/scsurvival_100k.json

A sweep over cohort sizes (patients fixed, cells per patient varied) with the linear fit of
time against cells (R^2)::

    .venv/bin/python benchmarks/bench_scsurvival.py --sweep 10000,20000,40000,80000 \\
        --patients 100 --genes 500 --out benchmarks/results/scsurvival_sweep.json

The fast preset's training budget is a fixed number of minibatches, so only the passes over
all cells grow with the cohort; ``--pretrain-epochs 1 --no-early-stopping`` makes the VAE see
every cell once per epoch (the authors' epoch-based budget) and every stage run its full
budget, which is the setting in which "time grows linearly with cells" is a claim to test.

The cohort is simulated (survlib.data.simulate_sc_cohort), streamed to an .h5ad file and
trained from it opened backed (on disk), unless --in-memory.  Results are JSON with
survlib.bench.machine_info(); nothing here is a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from survlib._core.io import atomic_write_text
from survlib.bench import limit_cpu_threads, machine_info
from survlib.protocols.scsurvival import benchmark_run, linear_fit


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--patients", type=int, default=100)
    ap.add_argument("--cells-per-patient", type=int, default=1000)
    ap.add_argument("--genes", type=int, default=2000)
    ap.add_argument("--preset", choices=["fast", "authors"], default="fast")
    ap.add_argument("--setting", default="hardest")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's)"
    )
    ap.add_argument(
        "--in-memory",
        action="store_true",
        help="keep the cohort in memory instead of a backed h5ad",
    )
    ap.add_argument("--workdir", default=None, help="where the temporary h5ad files go")
    ap.add_argument(
        "--sweep", default=None, help="comma-separated total cell counts (patients fixed)"
    )
    ap.add_argument("--finetune-steps", type=int, default=None)
    ap.add_argument("--pretrain-steps", type=int, default=None)
    ap.add_argument("--amicr-steps", type=int, default=None)
    ap.add_argument(
        "--pretrain-epochs",
        type=float,
        default=None,
        help="pretrain for this many passes over all cells instead of a fixed number "
        "of minibatches",
    )
    ap.add_argument(
        "--no-early-stopping",
        action="store_true",
        help="patience=None: every run takes its full step budget (comparable times in a sweep)",
    )
    ap.add_argument("--out", default="benchmarks/results/scsurvival.json")
    args = ap.parse_args(argv)
    if args.threads:
        limit_cpu_threads(args.threads)
    overrides = {
        k: v
        for k, v in {
            "finetune_steps": args.finetune_steps,
            "pretrain_steps": args.pretrain_steps,
            "amicr_steps": args.amicr_steps,
        }.items()
        if v is not None
    }
    if args.pretrain_epochs is not None:
        overrides.update(pretrain_steps=None, pretrain_epochs=args.pretrain_epochs)
    if args.no_early_stopping:
        overrides["patience"] = None
    common = dict(
        n_genes=args.genes,
        preset=args.preset,
        setting=args.setting,
        backed=not args.in_memory,
        workdir=args.workdir,
        seed=args.seed,
        device=args.device,
        **overrides,
    )
    if args.sweep:
        runs = []
        for total in [int(v) for v in args.sweep.split(",")]:
            cpp = max(1, round(total / args.patients))
            run = benchmark_run(args.patients, cpp, **common)
            runs.append(run)
            print(
                json.dumps(
                    {
                        k: run[k]
                        for k in (
                            "n_cells",
                            "seconds_end_to_end",
                            "cells_per_second",
                            "peak_rss_mb_after_simulate",
                        )
                    }
                ),
                file=sys.stderr,
            )
        cells = [r["n_cells"] for r in runs]
        fits = {
            "end_to_end": linear_fit(cells, [r["seconds_end_to_end"] for r in runs]),
            "peak_rss_mb": linear_fit(cells, [r["peak_rss_mb_after_simulate"] for r in runs]),
        }
        for stage in runs[0]["stages"]:
            fits[stage] = linear_fit(cells, [r["stages"][stage]["seconds"] for r in runs])
        payload = {
            "benchmark": "scsurvival_sweep",
            "runs": runs,
            "linear_fit_vs_cells": fits,
            "machine": machine_info(),
        }
    else:
        run = benchmark_run(args.patients, args.cells_per_patient, **common)
        payload = {"benchmark": "scsurvival", **run, "machine": machine_info()}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps(payload, indent=2, default=float))
    print(
        json.dumps(
            {k: v for k, v in payload.items() if k not in ("runs", "machine")},
            indent=2,
            default=float,
        )[:3000]
    )
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    raise SystemExit(main())
