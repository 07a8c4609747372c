"""Input validation shared by every loader, simulator and model.

Each check raises a :class:`ValueError` (or :class:`KeyError` for a missing column) whose
message names the offending field and, where useful, the first bad rows, so that a user sees
what to fix instead of a NaN loss three epochs later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd


def _first(idx: np.ndarray, k: int = 5) -> str:
    idx = np.asarray(idx).ravel()
    shown = ", ".join(str(i) for i in idx[:k])
    return shown + (f", ... ({idx.size} in all)" if idx.size > k else "")


def require_columns(df: pd.DataFrame, columns: Iterable[str], where: str = "table") -> None:
    """Raise ``KeyError`` naming every column of ``columns`` missing from ``df``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(
            f"{where} is missing column(s) {missing}; available columns: {list(df.columns)}"
        )


def validate_survival(
    time: Sequence[float] | np.ndarray,
    event: Sequence[int] | np.ndarray,
    name: str = "survival data",
    allow_zero_time: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Check and convert survival outcomes.

    Args:
        time: follow-up times in months; numeric, finite and non-negative.
        event: 1 if the event (death) was observed, 0 if censored. Booleans are accepted.
        name: what the data is called in error messages.
        allow_zero_time: if False, times must be strictly positive.

    Returns:
        ``(time, event)`` as ``float64`` and ``int64`` arrays.

    Raises:
        ValueError: naming the problem (length mismatch, non-numeric, NaN, negative time,
            event not in {0, 1}, no observed event).
    """
    t = np.asarray(time)
    e = np.asarray(event)
    if t.ndim != 1 or e.ndim != 1:
        raise ValueError(f"{name}: time and event must be 1-D, got shapes {t.shape} and {e.shape}")
    if t.shape[0] != e.shape[0]:
        raise ValueError(f"{name}: time has {t.shape[0]} values but event has {e.shape[0]}")
    if t.shape[0] == 0:
        raise ValueError(f"{name}: no samples")
    try:
        t = t.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}: time must be numeric (months); could not convert: {err}") from err
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        raise ValueError(f"{name}: time has NaN or infinite values at rows {_first(bad)}")
    bad = np.flatnonzero(t < 0) if allow_zero_time else np.flatnonzero(t <= 0)
    if bad.size:
        rule = "negative" if allow_zero_time else "non-positive"
        raise ValueError(f"{name}: time has {rule} values at rows {_first(bad)}")
    if e.dtype == bool:
        e = e.astype(np.int64)
    try:
        e_num = e.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}: event must be 0/1 (1 = death observed); got {e[:5]!r}") from err
    bad = np.flatnonzero(~np.isin(e_num, (0.0, 1.0)))
    if bad.size:
        raise ValueError(
            f"{name}: event must be 0/1 (1 = death observed); bad values at rows {_first(bad)}: "
            f"{np.unique(e[bad])[:5]!r}"
        )
    e = e_num.astype(np.int64)
    if e.sum() == 0:
        raise ValueError(f"{name}: no observed events (all censored); survival models need events")
    return t, e


def censorship_to_event(censorship: Sequence[int] | np.ndarray) -> np.ndarray:
    """Convert the reference codes' ``censorship = 1`` (alive) coding to ``event = 1`` (death).

    Done once, at the loading boundary, so the rest of survlib only ever sees ``event``.
    """
    c = np.asarray(censorship).astype(np.float64)
    if not np.isin(c, (0.0, 1.0)).all():
        raise ValueError("censorship must be 0/1 (1 = censored/alive)")
    return (1 - c).astype(np.int64)
