"""Training-speed cost of validating the losses' inputs (issue 16).

A small training run: 200 Adam steps of an MLP on ``[n, 64]`` features whose two heads are
trained with ``cox_partial_likelihood`` (one log-hazard) + ``nll_discrete`` (4 bins), batch
``n`` patients (default 512). The survlib on PYTHONPATH is timed, so the same script measures
the code before and after the validation layer::

    PYTHONPATH=/tmp/base16 python benchmarks/bench_validation.py --label before --out before.json
    PYTHONPATH=$PWD        python benchmarks/bench_validation.py --label after  --out after.json

Writes JSON: seconds per run (``repeats`` runs, one thread), their median, seconds per step,
and, where survlib has it, the time of the input checks alone per call.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch


def train_run(n: int, steps: int, seed: int = 0) -> float:
    from survlib.survival import cox_partial_likelihood, nll_discrete

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 64, generator=g)
    time_ = torch.rand(n, generator=g) * 100
    event = (torch.rand(n, generator=g) < 0.7).float()
    bins = torch.randint(0, 4, (n,), generator=g)
    net = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 5))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(steps):
        out = net(x)
        loss = cox_partial_likelihood(out[:, 0], time_, event) + nll_discrete(
            out[:, 1:], bins, event
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def check_cost(n: int, calls: int = 2000) -> float | None:
    try:
        from survlib._core.validation import check_bin_indices, check_time_event_tensors
    except ImportError:
        return None
    t = torch.rand(n) * 100
    e = (torch.rand(n) < 0.7).float()
    b = torch.randint(0, 4, (n,))
    start = time.perf_counter()
    for _ in range(calls):
        check_time_event_tensors(t, e, "bench")
        check_bin_indices(b, 4, "bench")
    return (time.perf_counter() - start) / calls


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=512)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--label", default="current")
    p.add_argument("--out", type=Path, default=Path("bench_validation.json"))
    args = p.parse_args()
    torch.set_num_threads(1)
    train_run(args.n, 10)  # warm-up
    runs = [train_run(args.n, args.steps, seed=r) for r in range(args.repeats)]
    import survlib

    result = {
        "label": args.label,
        "survlib": str(Path(survlib.__file__).parent),
        "n": args.n,
        "steps": args.steps,
        "runs_s": [round(r, 4) for r in runs],
        "median_s": round(statistics.median(runs), 4),
        "min_s": round(min(runs), 4),
        "ms_per_step": round(1000 * statistics.median(runs) / args.steps, 4),
        "check_us_per_call": None if (c := check_cost(args.n)) is None else round(1e6 * c, 2),
        "torch_threads": torch.get_num_threads(),
        "numpy": np.__version__,
    }
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
