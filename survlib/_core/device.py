"""Device, precision and seeds: the things every run decides first.

- :func:`pick_device`: ``"auto"`` is CUDA when present, else CPU (never chosen at import time);
  the environment variable ``SURVLIB_DEVICE`` (e.g. ``cuda`` or ``cpu``) overrides what
  ``"auto"`` picks, so a benchmark or a GPU machine can move every chapter at once without
  editing them. An explicit device (``"cpu"``, ``"cuda:1"``) always wins over the variable.
- :func:`resolve_precision` and :func:`autocast`: the arithmetic of the training forward pass,
  ``"fp32"`` (the default) or ``"bf16"`` (``torch.autocast`` with bfloat16, CPU or CUDA);
  ``SURVLIB_PRECISION`` sets it for every :func:`survlib.train.fit` that does not choose.
- :func:`seed_everything`: one seed makes a run reproducible (same seed, same CPU, same numbers).
"""

from __future__ import annotations

import contextlib
import os
import random

import numpy as np
import torch

__all__ = [
    "DEVICE_ENV",
    "PRECISIONS",
    "PRECISION_ENV",
    "autocast",
    "pick_device",
    "resolve_precision",
    "seed_everything",
]

#: Environment variable that overrides what ``pick_device("auto")`` returns (unset, empty or
#: ``auto``: CUDA when present, else CPU).
DEVICE_ENV = "SURVLIB_DEVICE"
#: Environment variable read by :func:`resolve_precision` when the caller does not choose.
PRECISION_ENV = "SURVLIB_PRECISION"
#: The precisions of a training forward pass: full float32, or bfloat16 autocast.
PRECISIONS = ("fp32", "bf16")


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """Return the device to compute on.

    Args:
        device: ``"auto"`` (``$SURVLIB_DEVICE`` when set, else CUDA when available, else CPU),
            ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"``, or a :class:`torch.device`.

    Raises:
        RuntimeError: a CUDA (or MPS) device is requested (or named by ``SURVLIB_DEVICE``)
            but not available.
        ValueError: the name (or ``SURVLIB_DEVICE``) is not a device.
    """
    if isinstance(device, torch.device):
        name = str(device)
    else:
        name = str(device).strip().lower()
    if name == "auto":
        override = os.environ.get(DEVICE_ENV, "").strip().lower()
        if override and override != "auto":
            return _named_device(override, f"{DEVICE_ENV}={override!r} (environment)")
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return _named_device(name, f"device {device!r}")


def _named_device(name: str, what: str) -> torch.device:
    """The :class:`torch.device` called ``name``, checked to exist; ``what`` names the request
    in errors (an argument or the environment variable)."""
    try:
        dev = torch.device(name)
    except RuntimeError as err:
        raise ValueError(f"unknown {what}; use 'auto', 'cpu', 'cuda' or 'cuda:N'") from err
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"{what} requested but CUDA is not available (no GPU or a CPU build "
                f"of torch); use device='auto' or 'cpu'"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise RuntimeError(
                f"{what} requested but only {torch.cuda.device_count()} GPU(s) exist"
            )
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError(f"{what} requested but MPS is not available")
    return dev


def resolve_precision(precision: str | None = None) -> str:
    """The precision of a training forward pass: ``"fp32"`` or ``"bf16"``.

    Args:
        precision: ``"fp32"`` / ``"bf16"`` (also ``"float32"`` / ``"bfloat16"``), or None:
            ``$SURVLIB_PRECISION`` when set, else ``"fp32"``.

    Raises:
        ValueError: the value (or ``SURVLIB_PRECISION``) is not one of :data:`PRECISIONS`.
    """
    what = "precision"
    if precision is None:
        precision = os.environ.get(PRECISION_ENV, "").strip() or "fp32"
        what = f"{PRECISION_ENV} (environment)"
    aliases = {"fp32": "fp32", "float32": "fp32", "bf16": "bf16", "bfloat16": "bf16"}
    name = aliases.get(str(precision).strip().lower()) if isinstance(precision, str) else None
    if name is None:
        raise ValueError(
            f"{what} must be one of {list(PRECISIONS)} (fp16 needs loss scaling and is not "
            f"offered), got {precision!r}"
        )
    return name


def autocast(device_type: str, precision: str) -> contextlib.AbstractContextManager[object]:
    """The context a training forward pass runs in: nothing for ``"fp32"``, else
    ``torch.autocast(device_type, dtype=torch.bfloat16)``.

    bfloat16 keeps float32's exponent range, so no loss scaling is needed. Matrix products and
    convolutions run in bfloat16; which other ops are promoted back to float32 follows torch's
    autocast op lists, which differ by device: on CUDA softmax, log, exp, sums and cumulative
    sums run in float32, on CPU only a shorter list (e.g. ``mse_loss``, ``nll_loss``) does.
    Gradients are taken outside the context, as torch advises.

    Raises:
        ValueError: an unknown precision, or bf16 on a device type without bf16 autocast
            (anything but ``cpu`` and ``cuda``), or on a GPU without bfloat16 support.
    """
    precision = resolve_precision(precision)
    if precision == "fp32":
        return contextlib.nullcontext()
    if device_type not in ("cpu", "cuda"):
        raise ValueError(f"precision 'bf16' runs on 'cpu' or 'cuda', not on {device_type!r}")
    if device_type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError("precision 'bf16' requested but this GPU does not support bfloat16")
    return torch.autocast(device_type, dtype=torch.bfloat16)


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
