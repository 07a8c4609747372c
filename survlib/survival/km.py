"""Kaplan-Meier curves, the log-rank test and risk groups (lifelines underneath)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from survlib._core.validation import align_by_index, check_finite_number, validate_survival
from survlib.survival._arrays import ArrayLike, _pandas_or_numpy, _to_numpy

__all__ = ["km_curve", "logrank_p", "median_split"]


def km_curve(time: ArrayLike, event: ArrayLike, alpha: float = 0.05) -> pd.DataFrame:
    """Kaplan-Meier curve with its pointwise confidence band (lifelines ``KaplanMeierFitter``).

    Returns:
        DataFrame with columns ``time, survival, lower, upper`` (one row per time on lifelines'
        timeline, starting at time 0 with survival 1).
    """
    from lifelines import KaplanMeierFitter

    check_finite_number(alpha, "km_curve: alpha", low=0.0, high=1.0, low_open=True)
    if float(alpha) >= 1.0:
        raise ValueError(f"km_curve: alpha must lie in (0, 1), got {alpha!r}")
    t, e = validate_survival(_pandas_or_numpy(time), _pandas_or_numpy(event), name="km_curve")
    kmf = KaplanMeierFitter(alpha=alpha).fit(t, event_observed=e)
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_survival_function_
    return pd.DataFrame(
        {
            "time": sf.index.to_numpy(dtype=np.float64),
            "survival": sf.to_numpy(dtype=np.float64),
            "lower": ci.iloc[:, 0].to_numpy(dtype=np.float64),
            "upper": ci.iloc[:, 1].to_numpy(dtype=np.float64),
        }
    )


def logrank_p(time: ArrayLike, event: ArrayLike, groups: ArrayLike) -> float:
    """p-value of the log-rank test of equal survival across ``groups`` (lifelines
    ``multivariate_logrank_test``; with two groups it is the usual two-sample test)."""
    from lifelines.statistics import multivariate_logrank_test

    a = align_by_index(time=time, event=event, groups=groups)
    t, e = validate_survival(
        _pandas_or_numpy(a["time"]), _pandas_or_numpy(a["event"]), name="logrank_p"
    )
    g = np.asarray(_to_numpy(a["groups"])).reshape(-1)
    if g.size != t.size:
        raise ValueError(f"logrank_p: groups has {g.size} values but time has {t.size}")
    missing = pd.isna(g)
    if missing.any():
        raise ValueError(
            f"logrank_p: groups has missing values (NaN/None) at rows "
            f"{np.flatnonzero(missing)[:5].tolist()}; a missing label is not a group"
        )
    if pd.unique(g).size < 2:
        raise ValueError("logrank_p: needs at least two groups")
    return float(multivariate_logrank_test(t, g, e).p_value)


def median_split(risk: ArrayLike, threshold: float | None = None) -> np.ndarray:
    """Label patients ``"high"`` (risk > threshold) or ``"low"`` (risk <= threshold).

    Args:
        risk: ``[N]`` risk scores (higher = worse).
        threshold: cut-off; default the median of ``risk``. Pass the *training* median to split
            a test set without peeking at it.
    """
    r = np.asarray(_to_numpy(risk), dtype=np.float64).reshape(-1)
    if r.size == 0 or not np.all(np.isfinite(r)):
        raise ValueError("median_split: risk must be a non-empty array of finite values")
    thr = (
        float(np.median(r))
        if threshold is None
        else check_finite_number(threshold, "median_split: threshold")
    )
    return np.where(r > thr, "high", "low")
