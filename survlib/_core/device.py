"""Device and seeds: the two things every run decides first.

- :func:`pick_device`: ``"auto"`` is CUDA when present, else CPU (never chosen at import time).
- :func:`seed_everything`: one seed makes a run reproducible (same seed, same CPU, same numbers).
"""

from __future__ import annotations

import random

import numpy as np
import torch

__all__ = ["pick_device", "seed_everything"]


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """Return the device to compute on.

    Args:
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"``,
            ``"mps"``, or a :class:`torch.device`.

    Raises:
        RuntimeError: a CUDA (or MPS) device is requested but not available.
        ValueError: the name is not a device.
    """
    if isinstance(device, torch.device):
        name = str(device)
    else:
        name = str(device).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError as err:
        raise ValueError(
            f"unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        ) from err
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"device {device!r} requested but CUDA is not available (no GPU or a CPU build "
                f"of torch); use device='auto' or 'cpu'"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise RuntimeError(
                f"device {device!r} requested but only {torch.cuda.device_count()} GPU(s) exist"
            )
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError(f"device {device!r} requested but MPS is not available")
    return dev


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and every GPU).

    Same seed, same CPU, same numbers. (GPU kernels may still be non-deterministic unless
    ``torch.use_deterministic_algorithms(True)`` is set by the caller.)
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    seed = int(seed)
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must lie in [0, 2**32), got {seed}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


# --------------------------------------------------------------------------------------------
