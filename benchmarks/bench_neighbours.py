"""Benchmark the k-nearest-neighbour smoothing of risk-cell identification
(survlib.explain.neighbour_mean): seconds and accuracy of the approximate search against the
exact one, at 10^5 and 10^6 cells of a simulated clustered 32-d embedding::

    .venv/bin/python benchmarks/bench_neighbours.py --sizes 100000,1000000 --threads 2 \\
        --out benchmarks/results/neighbours.json

Methods timed at every size (k = 30 neighbours, the cell itself included):

- ``approximate``: ``knn_mean(method="approximate")``, the PCA-tree partitioned search;
- ``exact``: scikit-learn ``NearestNeighbors`` over all cells.  Above ``--exact-queries``
  cells only that many random query cells are searched and the seconds are extrapolated
  (fit + query seconds per cell x cells; ``"extrapolated": true`` in the JSON);
- ``subsample_50k``: the previous neighbour_mean (exact search among a seeded random
  subsample of 50 000 reference cells), timed the same way;
- ``pynndescent`` (with ``--pynndescent``, up to ``--pynndescent-max-cells``): the NNDescent
  graph of umap-learn's library, its numba compilation timed apart on 2 000 cells.

Accuracy, on the query cells of the exact search: ``recall`` (share of the exact neighbours
found) and the correlation / mean absolute difference of the smoothed values with the exact
ones.  The embedding: cells around 20 centres, each cluster spread along 6 random directions
plus isotropic noise (sd 0.3), like a VAE latent of a few cell types; the values vary between
and within clusters plus unit noise.  Results are JSON with survlib.bench.machine_info().
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from survlib._core.io import atomic_write_text
from survlib.bench import limit_cpu_threads, machine_info


def simulate_embedding(n: int, d: int = 32, n_clusters: int = 20, seed: int = 0) -> tuple:
    """``(embedding float32 [n, d], values float64 [n])`` of the module docstring."""
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2.0, (n_clusters, d))
    bases = rng.normal(0, 1.0, (n_clusters, 6, d)) / np.sqrt(6)
    label = rng.integers(0, n_clusters, n)
    x = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 200_000):  # in blocks: the einsum's temporaries stay small
        lab = label[start : start + 200_000]
        spread = np.einsum("nr,nrd->nd", rng.normal(size=(lab.size, 6)), bases[lab])
        x[start : start + lab.size] = centres[lab] + spread + rng.normal(0, 0.3, (lab.size, d))
    values = rng.normal(0, 1, n_clusters)[label] + x @ rng.normal(0, 0.2, d) + rng.normal(0, 1, n)
    return x, values


def _accuracy(found, exact_idx, values, queries) -> dict[str, float]:
    """Recall of the exact neighbours and agreement of the means on the query cells."""
    import numpy as np

    approx_mean = values[found].mean(1)
    exact_mean = values[exact_idx].mean(1)
    recall = float((exact_idx[:, :, None] == found[:, None, :]).any(2).mean())
    return {
        "recall": recall,
        "correlation_with_exact_mean": float(np.corrcoef(approx_mean, exact_mean)[0, 1]),
        "mean_abs_difference": float(np.abs(approx_mean - exact_mean).mean()),
        "queries_compared": int(queries.size),
    }


def _exact(x, k: int, queries) -> tuple[Any, dict[str, Any]]:
    """sklearn's exact neighbours of the query cells, and its (extrapolated) seconds."""
    from sklearn.neighbors import NearestNeighbors

    t0 = time.perf_counter()
    nn = NearestNeighbors(n_neighbors=k).fit(x)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    idx = nn.kneighbors(x[queries], return_distance=False)
    query_s = time.perf_counter() - t0
    n = x.shape[0]
    return idx, {
        "seconds": fit_s + query_s * n / queries.size,
        "seconds_measured": fit_s + query_s,
        "queries_measured": int(queries.size),
        "extrapolated": bool(queries.size < n),
    }


def _subsample_50k(x, values, k: int, queries, seed: int) -> tuple[Any, dict[str, Any]]:
    """The previous neighbour_mean: exact search among 50 000 random reference cells."""
    import numpy as np
    from sklearn.neighbors import NearestNeighbors

    n = x.shape[0]
    t0 = time.perf_counter()
    ref = np.arange(n)
    if n > 50_000:
        ref = np.sort(np.random.default_rng(seed).choice(n, 50_000, replace=False))
    nn = NearestNeighbors(n_neighbors=k).fit(x[ref])
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    idx = ref[nn.kneighbors(x[queries], return_distance=False)]
    query_s = time.perf_counter() - t0
    return idx, {
        "seconds": fit_s + query_s * n / queries.size,
        "queries_measured": int(queries.size),
        "extrapolated": bool(queries.size < n),
    }


def _pynndescent(x, k: int, seed: int, threads: int) -> tuple[Any, dict[str, Any]]:
    import pynndescent

    t0 = time.perf_counter()
    pynndescent.NNDescent(x[:2000], n_neighbors=k, random_state=seed, n_jobs=threads)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = pynndescent.NNDescent(x, n_neighbors=k, random_state=seed, n_jobs=threads)
    idx, _ = index.neighbor_graph
    return idx, {"seconds": time.perf_counter() - t0, "compile_seconds": compile_s}


def run_size(n: int, args: argparse.Namespace) -> dict[str, Any]:
    """Every method at ``n`` cells."""
    import numpy as np

    from survlib.explain import knn_indices, knn_mean

    x, values = simulate_embedding(n, args.dims, args.clusters, args.seed)
    rng = np.random.default_rng(args.seed + 1)
    queries = np.sort(rng.choice(n, min(n, args.exact_queries), replace=False))
    exact_idx, exact = _exact(x, args.k, queries)
    methods: dict[str, Any] = {"exact": exact}
    opts = dict(leaf_size=args.leaf_size, n_probe=args.n_probe)
    t0 = time.perf_counter()
    knn_mean(x, values, args.k, method="approximate", **opts)
    approx: dict[str, Any] = {"seconds": time.perf_counter() - t0, **opts}
    found = knn_indices(x, args.k, method="approximate", **opts)[queries]
    methods["approximate"] = {**approx, **_accuracy(found, exact_idx, values, queries)}
    sub_idx, sub = _subsample_50k(x, values, args.k, queries, args.seed)
    methods["subsample_50k"] = {**sub, **_accuracy(sub_idx, exact_idx, values, queries)}
    if args.pynndescent and n <= args.pynndescent_max_cells:
        pyn_idx, pyn = _pynndescent(x, args.k, args.seed, max(1, args.threads or 1))
        methods["pynndescent"] = {**pyn, **_accuracy(pyn_idx[queries], exact_idx, values, queries)}
    return {"n_cells": n, "methods": methods}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated cell counts")
    ap.add_argument("--k", type=int, default=30)
    ap.add_argument("--dims", type=int, default=32)
    ap.add_argument("--clusters", type=int, default=20)
    ap.add_argument("--leaf-size", type=int, default=64)
    ap.add_argument("--n-probe", type=int, default=24)
    ap.add_argument("--exact-queries", type=int, default=5000)
    ap.add_argument("--pynndescent", action="store_true")
    ap.add_argument("--pynndescent-max-cells", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    ap.add_argument("--out", default="benchmarks/results/neighbours.json")
    args = ap.parse_args(argv)
    if args.threads:
        limit_cpu_threads(args.threads)
    import torch

    runs = []
    for n in [int(v) for v in args.sizes.split(",")]:
        runs.append(run_size(n, args))
        print(json.dumps(runs[-1], default=float), file=sys.stderr)
    payload = {
        "benchmark": "neighbours",
        "k": args.k,
        "dims": args.dims,
        "clusters": args.clusters,
        "torch_threads": torch.get_num_threads(),
        "exact_note": (
            "exact: scikit-learn NearestNeighbors; above exact_queries cells its seconds are "
            "extrapolated from a random subsample of query cells (fit + query seconds per cell "
            "x cells), and every accuracy figure is computed on those query cells"
        ),
        "exact_queries": args.exact_queries,
        "runs": runs,
        "machine": machine_info(("survlib", "torch", "numpy", "scikit-learn", "pynndescent")),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps(payload, indent=2, default=float))
    print(json.dumps(runs, indent=2, default=float))
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    raise SystemExit(main())
