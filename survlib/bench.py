"""What every benchmark script under ``benchmarks/`` records next to its figures, and how
heavy jobs share a CPU.

Benchmarks measure speed and memory and write JSON (never timed tests). Each result carries
:func:`machine_info` so that numbers from different machines are never compared unknowingly.
:func:`limit_cpu_threads` caps the thread pools of a notebook or a benchmark. This module
imports nothing heavy, so it can run before numpy and torch are imported.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from collections.abc import Iterable
from typing import Any

#: Environment variables read by the OpenMP, BLAS and numba thread pools when they start.
THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)


def limit_cpu_threads(threads: int) -> int:
    """Cap torch, BLAS, OpenMP and numba at ``threads`` CPU threads (0: leave the defaults).

    Call it before numpy, torch or numba are imported: the environment variables are read only
    when a pool starts.  Pools that already run are capped too (``threadpoolctl``,
    ``torch.set_num_threads``).  On a shared or small CPU this matters: idle threads of an
    oversubscribed pool spin and made our smoke runs about ten times slower.

    Returns the number of torch threads in use afterwards.
    """
    threads = int(threads)
    if threads < 0:
        raise ValueError(f"threads must be >= 0 (0 = library defaults), got {threads}")
    numba_running = _numba_pool_started()
    if threads > 0:
        for var in THREAD_ENV_VARS:
            # numba refuses to compile anything once NUMBA_NUM_THREADS differs from the size of
            # a pool it has already launched; a running pool is capped below instead
            if not (var == "NUMBA_NUM_THREADS" and numba_running):
                os.environ[var] = str(threads)
    import torch
    from threadpoolctl import threadpool_limits

    if threads > 0:
        torch.set_num_threads(threads)
        threadpool_limits(threads)
        if numba_running:
            import numba

            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    return torch.get_num_threads()


def _numba_pool_started() -> bool:
    """Whether numba's parallel thread pool has been launched in this process."""
    parallel = sys.modules.get("numba.np.ufunc.parallel")
    return bool(getattr(parallel, "_is_initialized", False))


def machine_info(packages: Iterable[str] = ("survlib", "torch", "numpy")) -> dict[str, Any]:
    """Where the numbers were measured: platform, CPUs, load, Python, package versions, GPU."""
    versions: dict[str, str | None] = {}
    for package in packages:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": sys.version.split()[0],
        "versions": versions,
    }
    if "torch" in sys.modules:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        info["cuda_device"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return info
