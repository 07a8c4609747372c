r"""Time bins (a fitted transformer) and survival curves.

- :class:`TimeBins`, :func:`make_time_bins`: the discretisation of follow-up time;
- :func:`discrete_survival`, :func:`discrete_risk`: curves and risk of a discrete-time model;
- :func:`survival_at_times`: curves evaluated at requested months (linear or step);
- :func:`breslow_survival`: curves of a Cox model from Breslow's baseline hazard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from survlib._core.validation import check_survival_curves, validate_survival
from survlib.survival._arrays import ArrayLike, _to_numpy

__all__ = [
    "TimeBins",
    "breslow_survival",
    "discrete_risk",
    "discrete_survival",
    "make_time_bins",
    "survival_at_times",
]


@dataclass
class TimeBins:
    r"""Discretisation of follow-up time into ``n_bins`` intervals (pycox-style transformer).

    :meth:`fit` follows the SurvPath / SurvPGC reference codes: the edges are the quantiles
    of the **event** times (``pd.qcut(event_times, n_bins)``, so each bin holds about the same
    number of deaths), then the outer edges are widened to cover every time seen in fit:
    ``edges[0] = min(time) - eps``, ``edges[-1] = max(time) + eps``. Bins are left-closed,
    :math:`[e_k, e_{k+1})`, as in the reference codes' ``pd.cut(..., right=False)``.

    Attributes:
        n_bins: number of bins.
        eps: widening of the outer edges.
        edges: ``n_bins + 1`` increasing edges (set by :meth:`fit`).

    Example:
        >>> bins = TimeBins(n_bins=2).fit([1.0, 2.0, 3.0, 4.0, 10.0], [1, 1, 1, 1, 0])
        >>> bins.edges.round(3).tolist()
        [1.0, 2.5, 10.0]
        >>> bins.transform([0.5, 2.0, 3.0, 50.0]).tolist()
        [0, 0, 1, 1]
    """

    n_bins: int = 4
    eps: float = 1e-6
    edges: np.ndarray | None = field(default=None, repr=False)

    def fit(self, time: ArrayLike, event: ArrayLike) -> TimeBins:
        """Set the edges from training times (all of them) and events."""
        if int(self.n_bins) < 1:
            raise ValueError(f"n_bins must be >= 1, got {self.n_bins}")
        t, e = validate_survival(_to_numpy(time), _to_numpy(event), name="make_time_bins")
        event_times = t[e == 1]
        n_distinct = np.unique(event_times).size
        if int(self.n_bins) > n_distinct:
            raise ValueError(
                f"make_time_bins: n_bins={self.n_bins} but only {n_distinct} distinct event "
                "times; each bin needs at least one event: use fewer bins"
            )
        try:
            _, edges = pd.qcut(event_times, q=int(self.n_bins), retbins=True, labels=False)
        except ValueError as err:
            raise ValueError(
                f"make_time_bins: cannot cut {event_times.size} event times into {self.n_bins} "
                f"quantile bins with distinct edges (too many tied event times or too few "
                f"events); use fewer bins. pandas said: {err}"
            ) from err
        edges = np.asarray(edges, dtype=np.float64)
        edges[0] = t.min() - self.eps
        edges[-1] = t.max() + self.eps
        if np.any(np.diff(edges) <= 0):
            raise ValueError(f"make_time_bins: edges are not increasing: {edges}")
        self.edges = edges
        return self

    def _check_fitted(self) -> np.ndarray:
        if self.edges is None:
            raise RuntimeError("TimeBins is not fitted: call .fit(time, event) first")
        return self.edges

    def transform(self, time: ArrayLike) -> np.ndarray:
        """Bin index in ``[0, n_bins - 1]`` of each time; times outside the fitted range go to
        the first or last bin."""
        edges = self._check_fitted()
        t = np.asarray(_to_numpy(time), dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(t)):
            raise ValueError("TimeBins.transform: times must be finite")
        return np.searchsorted(edges[1:-1], t, side="right").astype(np.int64)

    def fit_transform(self, time: ArrayLike, event: ArrayLike) -> np.ndarray:
        """:meth:`fit` then :meth:`transform` on the same times."""
        return self.fit(time, event).transform(time)

    @property
    def midpoints(self) -> np.ndarray:
        """Centre of each bin, ``(edges[k] + edges[k+1]) / 2``."""
        edges = self._check_fitted()
        return (edges[:-1] + edges[1:]) / 2.0

    def predict_survival(self, logits: torch.Tensor | np.ndarray, times: ArrayLike) -> np.ndarray:
        """Survival of a discrete model at the requested ``times`` (``[N, len(times)]``).

        Uses :func:`discrete_survival` at the bin edges (``S = 1`` at ``edges[0]``) and
        :func:`survival_at_times` (linear interpolation in time between edges).
        """
        edges = self._check_fitted()
        surv = discrete_survival(logits)
        if surv.shape[1] != edges.size - 1:
            raise ValueError(f"logits have {surv.shape[1]} bins, TimeBins has {edges.size - 1}")
        curve = np.concatenate([np.ones((surv.shape[0], 1)), surv], axis=1)
        return survival_at_times(edges, curve, times)


def make_time_bins(time: ArrayLike, event: ArrayLike, n_bins: int = 4) -> TimeBins:
    """Fit :class:`TimeBins` (quantiles of the event times, outer edges widened to all times).

    Example:
        >>> bins = make_time_bins([1.0, 2.0, 3.0, 4.0, 10.0], [1, 1, 1, 1, 0], n_bins=2)
        >>> bins.transform([3.0]).tolist()
        [1]
    """
    return TimeBins(n_bins=n_bins).fit(time, event)


def discrete_survival(logits: torch.Tensor | np.ndarray) -> np.ndarray:
    r"""Survival at the right edge of each bin: :math:`S_k = \prod_{j \le k} (1 - \sigma(z_j))`.

    Args:
        logits: ``[N, K]`` per-bin hazard logits.

    Returns:
        ``[N, K]`` float64 array; column ``k`` is :math:`S(e_{k+1})`.
    """
    z = torch.as_tensor(_to_numpy(logits), dtype=torch.float64)
    if z.ndim != 2:
        raise ValueError(f"logits must have shape [N, K], got {tuple(z.shape)}")
    return torch.exp(torch.cumsum(F.logsigmoid(-z), dim=1)).numpy()


def discrete_risk(logits: torch.Tensor | np.ndarray) -> np.ndarray:
    r"""Risk score of a discrete model as in SurvPath: :math:`r = -\sum_k S_k` (higher = worse)."""
    return -discrete_survival(logits).sum(axis=1)


def survival_at_times(
    curve_times: ArrayLike,
    curve_surv: ArrayLike,
    times: ArrayLike,
    method: Literal["linear", "step"] = "linear",
) -> np.ndarray:
    r"""Evaluate survival curves at requested times.

    ``method="linear"`` (for discrete-time models): :math:`S` is interpolated linearly in
    time between the curve's points, i.e. the hazard mass of a bin is spread uniformly over the
    bin (pycox's "constant density interpolation"). ``method="step"``: the right-continuous step
    function (Kaplan-Meier / Breslow style), :math:`S(t) = S(t_j)` for the last
    :math:`t_j \le t`. In both cases the curve starts at :math:`S = 1` before its first point
    (a point ``(0, 1)`` is prepended when ``curve_times[0] > 0`` for ``"linear"``) and is held
    constant after its last point. Values are returned **at the requested times**, never at
    the nearest curve point.

    Args:
        curve_times: ``[M]`` strictly increasing times of the curve (e.g. ``TimeBins.edges``).
        curve_surv: ``[M]`` or ``[N, M]`` survival at ``curve_times``.
        times: ``[T]`` requested times (non-negative).
        method: ``"linear"`` or ``"step"``.

    Returns:
        ``[N, T]`` (or ``[T]`` for a 1-D curve) float64 array.

    Example:
        >>> curve = survival_at_times([0.0, 10.0, 20.0], [1.0, 0.8, 0.4], [5.0, 15.0, 30.0])
        >>> curve.round(3).tolist()
        [0.9, 0.6, 0.4]
    """
    x = np.asarray(_to_numpy(curve_times), dtype=np.float64).reshape(-1)
    s = np.asarray(_to_numpy(curve_surv), dtype=np.float64)
    one_d = s.ndim == 1
    s2 = s.reshape(1, -1) if one_d else s
    q = np.asarray(_to_numpy(times), dtype=np.float64).reshape(-1)
    if s2.ndim != 2 or s2.shape[1] != x.size:
        raise ValueError(f"curve_surv must be [{x.size}] or [N, {x.size}], got {s.shape}")
    if x.size == 0 or np.any(np.diff(x) <= 0):
        raise ValueError("curve_times must be non-empty and strictly increasing")
    if not np.all(np.isfinite(q)) or np.any(q < 0):
        raise ValueError(
            f"survival_at_times: times must be finite and non-negative, got {q.tolist()[:8]}"
        )
    check_survival_curves(s2, "survival_at_times: curve_surv")
    if method == "step":
        idx = np.searchsorted(x, q, side="right") - 1  # last curve point <= t
        padded = np.concatenate([np.ones((s2.shape[0], 1)), s2], axis=1)
        out = padded[:, idx + 1]
    elif method == "linear":
        if x[0] > 0:
            x = np.concatenate([[0.0], x])
            s2 = np.concatenate([np.ones((s2.shape[0], 1)), s2], axis=1)
        if x.size == 1:
            out = np.repeat(s2[:, :1], q.size, axis=1)
        else:
            idx = np.clip(np.searchsorted(x, q, side="right") - 1, 0, x.size - 2)
            frac = np.clip((q - x[idx]) / (x[idx + 1] - x[idx]), 0.0, 1.0)
            out = s2[:, idx] * (1.0 - frac) + s2[:, idx + 1] * frac
    else:
        raise ValueError(f"method must be 'linear' or 'step', got {method!r}")
    return out[0] if one_d else out


def breslow_survival(
    train_risk: ArrayLike,
    train_time: ArrayLike,
    train_event: ArrayLike,
    risk: ArrayLike,
    times: ArrayLike,
) -> np.ndarray:
    r"""Survival curves of a Cox model from Breslow's baseline hazard.

    .. math::

        \hat H_0(t) = \sum_{t_k \le t} \frac{d_k}{\sum_{j: T_j \ge t_k} e^{\eta_j}},
        \qquad \hat S(t \mid x) = \exp\big(-\hat H_0(t)\, e^{\eta(x)}\big)

    with :math:`d_k` the deaths at training time :math:`t_k` and :math:`\eta` the log
    relative hazard (``train_risk`` on the training set, ``risk`` for the patients to
    predict). :math:`\hat H_0` is a right-continuous step function (this equals lifelines'
    ``CoxPHFitter.predict_survival_function`` at observed times; lifelines interpolates
    linearly between them).

    Returns:
        ``[N, len(times)]`` survival probabilities.
    """
    t, e = validate_survival(_to_numpy(train_time), _to_numpy(train_event), name="breslow_survival")
    eta_tr = np.asarray(_to_numpy(train_risk), dtype=np.float64).reshape(-1)
    eta = np.asarray(_to_numpy(risk), dtype=np.float64).reshape(-1)
    q = np.asarray(_to_numpy(times), dtype=np.float64).reshape(-1)
    if eta_tr.size != t.size:
        raise ValueError(f"train_risk has {eta_tr.size} values but train_time has {t.size}")
    if not (np.all(np.isfinite(eta_tr)) and np.all(np.isfinite(eta))):
        raise ValueError("breslow_survival: risk scores must be finite")
    shift = eta_tr.max()
    w = np.exp(eta_tr - shift)
    order = np.argsort(t, kind="stable")
    t_s, e_s, w_s = t[order], e[order], w[order]
    uniq, first, counts = np.unique(t_s, return_index=True, return_counts=True)
    risk_sum = np.cumsum(w_s[::-1])[::-1][first]
    deaths = np.add.reduceat(e_s, first)
    cum_haz = np.cumsum(deaths / risk_sum)  # H_0 at each unique time, in units of exp(shift)
    idx = np.searchsorted(uniq, q, side="right") - 1
    h0 = np.where(idx >= 0, cum_haz[np.clip(idx, 0, None)], 0.0)
    return np.exp(-np.outer(np.exp(eta - shift), h0))
