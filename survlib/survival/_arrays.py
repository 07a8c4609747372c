"""Array helpers shared by the survival modules (tensors, pandas objects, NumPy arrays)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

ArrayLike = Sequence[float] | np.ndarray | torch.Tensor


def _to_numpy(x: ArrayLike) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _pandas_or_numpy(x: ArrayLike) -> ArrayLike:
    """pandas objects unchanged (their index is checked), tensors as NumPy."""
    return x if isinstance(x, pd.Series | pd.DataFrame) else _to_numpy(x)


def _float_array(x: ArrayLike, name: str) -> np.ndarray:
    try:
        return np.asarray(_to_numpy(x), dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric, could not convert: {err}") from err


def _risk_array(risk: ArrayLike, n: int, name: str = "risk") -> np.ndarray:
    r = _float_array(risk, name)
    if r.ndim == 2 and r.shape[1] == 1:
        r = r[:, 0]
    if r.ndim != 1 or r.size != n:
        raise ValueError(f"{name} must have shape [{n}] (one score per patient), got {r.shape}")
    bad = np.flatnonzero(~np.isfinite(r))
    if bad.size:
        raise ValueError(f"{name} has NaN or infinite values at rows {bad[:5].tolist()}")
    return r
