"""Benchmark ``survlib sweep``: N smoke runs of a chapter, serial vs on a local Dask cluster.

The same N points (``seed = 0 .. N-1``, the chapter's smoke profile) run twice into two fresh
sweep folders:

- ``serial``: one after another in this process (``survlib sweep --serial``; each run is a
  papermill kernel, as ``survlib run`` does);
- ``cluster``: on a ``LocalCluster`` of worker processes, one thread each (what
  ``survlib sweep`` starts without ``--scheduler``). The cluster's start-up is timed apart.

Both use ``--threads`` CPU threads per run (default 1: Dask sets ``OMP_NUM_THREADS=1`` in its
workers, and the serial kernels get the same through the environment), so the speed-up
measures parallel runs, not thread oversubscription (``--threads 0`` leaves the serial runs at
the libraries' default, as a plain ``survlib run`` does). Reported: wall times, the speed-up
(serial / cluster sweep, and including the start-up), and whether both sweeps glued the same
numbers (the largest absolute difference of a numeric headline). On c free cores the speed-up
is at most min(N, c)::

    nice -n 10 .venv/bin/python benchmarks/bench_sweep.py --n 4        # -> benchmarks/results/
    .venv/bin/python benchmarks/bench_sweep.py --notebook 04 --n 8 --workers 4 --out /tmp/s.json
"""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from survlib._core.io import atomic_write_json
from survlib.bench import machine_info
from survlib.sweep import available_cpus, local_client, run_sweep

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _max_headline_difference(a: Any, b: Any, skip: set[str]) -> float:
    """Largest |a - b| over the numeric headline columns shared by two sweep tables."""
    a, b = a.set_index("point"), b.set_index("point")
    worst = 0.0
    for column in a.columns.intersection(b.columns):
        if column in skip:
            continue
        for key in a.index:
            x, y = a.at[key, column], b.at[key, column]
            if isinstance(x, bool | str) or isinstance(y, bool | str):
                if x != y:
                    return math.inf
                continue
            try:
                diff = abs(float(x) - float(y))
            except (TypeError, ValueError):
                continue
            if not math.isnan(diff):
                worst = max(worst, diff)
    return worst


def bench(notebook: str, n: int, workers: int | None, profile: str, threads: int) -> dict[str, Any]:
    """Run the N-point sweep serially and on a local cluster; return the timings."""
    from survlib.bench import THREAD_ENV_VARS

    grid = {"seed": list(range(n))}
    if threads > 0:  # the serial kernels inherit this process's environment
        for var in THREAD_ENV_VARS:
            os.environ[var] = str(threads)
    serial_threads = os.environ.get("OMP_NUM_THREADS")
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        t0 = time.perf_counter()
        serial = run_sweep(
            notebook,
            grid,
            profile=profile,
            name="serial",
            root=tmp,
            executor="serial",
            progress=True,
        )
        serial_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        with local_client(workers, n_tasks=n) as client:
            startup_s = time.perf_counter() - t0
            n_workers = len(client.scheduler_info()["workers"])
            t1 = time.perf_counter()
            cluster = run_sweep(
                notebook,
                grid,
                profile=profile,
                name="cluster",
                root=tmp,
                executor=client,
                progress=True,
            )
            cluster_s = time.perf_counter() - t1
        total_s = time.perf_counter() - t0
        skip = {"seed", "status", "resumed", "seconds", "error"}
        difference = _max_headline_difference(serial.table, cluster.table, skip)
        per_run = {
            "serial": serial.table["seconds"].tolist(),
            "cluster": cluster.table["seconds"].tolist(),
        }
    return {
        "notebook": notebook,
        "profile": profile,
        "serial_omp_num_threads": serial_threads,
        "cluster_omp_num_threads": "1 (Dask's worker default)",
        "n_runs": n,
        "workers": n_workers,
        "serial_seconds": serial_s,
        "cluster_startup_seconds": startup_s,
        "cluster_sweep_seconds": cluster_s,
        "cluster_total_seconds": total_s,
        "speedup": serial_s / cluster_s,
        "speedup_including_startup": serial_s / total_s,
        "speedup_bound": min(n, n_workers),
        "failed": {"serial": serial.failed, "cluster": cluster.failed},
        "run_seconds_recorded": per_run,
        "max_abs_headline_difference": difference,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", default="01_survival_primer")
    parser.add_argument("--n", type=int, default=4, help="points (runs) in the sweep")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="LocalCluster worker processes (default: the CPU cores)",
    )
    parser.add_argument("--profile", default="smoke", choices=["smoke", "book", "paper"])
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads per serial run (0: the libraries' default)",
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON path")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f"--n must be >= 1, got {args.n}")
    if args.threads < 0:
        parser.error(f"--threads must be >= 0, got {args.threads}")
    info = machine_info(("survlib", "torch", "numpy", "distributed", "dask", "papermill"))
    info["available_cpus"] = available_cpus()
    started = _dt.datetime.now(_dt.UTC)
    result = bench(args.notebook, args.n, args.workers, args.profile, args.threads)
    out = args.out or RESULTS_DIR / f"bench_sweep_{started:%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "sweep",
        "started": started.isoformat(),
        "machine": info,
        "load_average_after": list(os.getloadavg()),
        **result,
    }
    atomic_write_json(out, payload, allow_nan=True)
    print(
        f"serial {result['serial_seconds']:.1f} s; cluster {result['cluster_sweep_seconds']:.1f} s "
        f"(+ {result['cluster_startup_seconds']:.1f} s start-up) on {result['workers']} workers; "
        f"speed-up {result['speedup']:.2f}x ({result['speedup_including_startup']:.2f}x with "
        f"start-up; bound {result['speedup_bound']}x) -> {out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
