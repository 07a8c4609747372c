"""What every benchmark script under ``benchmarks/`` records next to its figures.

Benchmarks measure speed and memory and write JSON (never timed tests). Each result carries
:func:`machine_info` so that numbers from different machines are never compared unknowingly.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from collections.abc import Iterable
from typing import Any


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
