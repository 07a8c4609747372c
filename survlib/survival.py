r"""The survival core: losses, time bins, survival curves and metrics.

Conventions (the whole book follows them): ``event = 1`` means death observed, ``0`` censored;
times are in **months**; a higher risk score means an earlier expected death.

Losses (pure functions of tensors, gradients flow to the model output)
    :func:`cox_partial_likelihood`  negative log Cox partial likelihood (Efron / Breslow ties)
    :func:`nll_discrete`            logistic-hazard negative log-likelihood (SurvPath / SurvPGC)

Targets and curves
    :class:`TimeBins`, :func:`make_time_bins`   time discretisation as a fitted transformer
    :func:`discrete_survival`, :func:`discrete_risk`, :func:`survival_at_times`,
    :func:`breslow_survival`

Metrics (thin wrappers over scikit-survival and lifelines; inputs are validated)
    :func:`concordance`, :func:`uno_concordance`, :func:`td_auc`, :func:`iauc`,
    :func:`integrated_brier`, :func:`km_curve`, :func:`logrank_p`, :func:`median_split`

Evaluation window of the IPCW metrics (Uno's C, td-AUC, iAUC, integrated Brier)
    These metrics weight test patients by the inverse of the *training* censoring
    distribution, which is only estimable up to the largest training follow-up time
    ``t_max``. Test patients followed beyond ``t_max`` are therefore administratively censored
    at ``t_max`` (a warning says how many). This leaves every quantity evaluated before
    ``t_max`` unchanged. Requested evaluation times must lie in
    ``[min test time, max test time)`` (scikit-survival's rule, after that censoring); with
    ``out_of_range="drop"`` (default) a time outside it gives ``NaN`` (and is left out of the
    integrals) with a warning, with ``out_of_range="raise"`` it is an error. Times are never
    silently moved: an "AUC at 60 months" is computed at 60 months or not at all.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from survlib._core.validation import (
    align_by_index,
    check_bin_indices,
    check_finite_number,
    check_survival_curves,
    check_time_event_tensors,
    validate_survival,
)

__all__ = [
    "DEFAULT_TIMES",
    "TimeBins",
    "bootstrap_cindex",
    "breslow_survival",
    "concordance",
    "cox_partial_likelihood",
    "discrete_risk",
    "discrete_survival",
    "iauc",
    "integrated_brier",
    "km_curve",
    "logrank_p",
    "make_time_bins",
    "median_split",
    "nll_discrete",
    "paired_bootstrap_cindex",
    "released_td_auc",
    "survival_at_times",
    "td_auc",
    "uno_concordance",
]

#: The month times at which the papers report time-dependent AUC (1, 3 and 5 years).
DEFAULT_TIMES: tuple[float, ...] = (12.0, 36.0, 60.0)

ArrayLike = Sequence[float] | np.ndarray | torch.Tensor
OutOfRange = Literal["drop", "raise"]


# --------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------


def _as_tensor(x: ArrayLike, like: torch.Tensor, name: str) -> torch.Tensor:
    """``x`` as a tensor on ``like``'s device (no copy when it already is one there)."""
    if isinstance(x, torch.Tensor):
        return x.to(like.device)
    try:
        return torch.as_tensor(np.asarray(x), device=like.device)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric, could not convert: {err}") from err


def _flatten_scores(x: torch.Tensor, name: str) -> torch.Tensor:
    """Accept ``[N]`` or ``[N, 1]`` and return ``[N]``."""
    if x.ndim == 2 and x.shape[1] == 1:
        return x[:, 0]
    if x.ndim != 1:
        raise ValueError(f"{name} must have shape [N] or [N, 1], got {tuple(x.shape)}")
    return x


def cox_partial_likelihood(
    log_hz: torch.Tensor,
    time: ArrayLike,
    event: ArrayLike,
    ties: Literal["efron", "breslow"] = "efron",
) -> torch.Tensor:
    r"""Negative log Cox partial likelihood, averaged over the observed events.

    Let :math:`\eta_i` be the log relative hazard of patient :math:`i` (``log_hz``), the
    distinct event times :math:`t_1 < t_2 < \dots`, :math:`H_k` the patients who die at
    :math:`t_k` (:math:`m_k = |H_k|`), :math:`R_k = \{j : T_j \ge t_k\}` the risk set,
    :math:`D_k = \sum_{j \in R_k} e^{\eta_j}` and :math:`E_k = \sum_{i \in H_k} e^{\eta_i}`.

    Breslow's handling of tied event times:

    .. math::

        \ell = \sum_k \Big[\sum_{i \in H_k} \eta_i - m_k \log D_k\Big]

    Efron's (the default; also lifelines' and R ``coxph``'s default):

    .. math::

        \ell = \sum_k \Big[\sum_{i \in H_k} \eta_i
               - \sum_{r=0}^{m_k - 1} \log\big(D_k - \tfrac{r}{m_k} E_k\big)\Big]

    Without ties both equal Cox's partial likelihood. The function returns
    :math:`-\ell / \sum_i \delta_i` (mean over events, not over unique event times), so its
    value does not depend on the batch size and its minimiser is the Cox estimate.

    Implementation: one sort by time, reverse cumulative sums for the risk sets and
    ``index_add`` over the unique times for the tied groups (no loop over samples). The risk
    sets are summed in log space (``logcumsumexp``) and Efron's correction is applied as
    :math:`\log D_k + \log(1 - \tfrac{r}{m_k} E_k / D_k)`, so the loss and its gradient stay
    finite however far apart the log hazards are (a spread beyond ~87 underflows float32
    exponentials and made the old shifted-exponential form return NaN gradients). Times are tied
    when they are exactly equal.

    Args:
        log_hz: float tensor ``[N]`` or ``[N, 1]``, the model's log relative hazard (higher =
            earlier death). Gradients flow to it.
        time: ``[N]`` follow-up times (tensor or array).
        event: ``[N]`` 1 = death observed, 0 = censored (bool, int or float).
        ties: ``"efron"`` or ``"breslow"``.

    Returns:
        Scalar tensor (same dtype and device as ``log_hz``).

    Raises:
        ValueError: shapes disagree, ``ties`` unknown, or the batch has no observed event
            (the partial likelihood is then undefined: use batches that contain events).

    Example:
        >>> import torch
        >>> log_hz = torch.tensor([0.0, 0.6931, 0.0], requires_grad=True)
        >>> loss = cox_partial_likelihood(log_hz, time=[1.0, 1.0, 2.0], event=[1, 1, 0])
        >>> round(loss.item(), 4)  # -(log 2 - log 4 - log 2.5) / 2
        0.8047
        >>> loss.backward()
    """
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties must be 'efron' or 'breslow', got {ties!r}")
    if not isinstance(log_hz, torch.Tensor):
        raise ValueError(f"log_hz must be a torch.Tensor, got {type(log_hz).__name__}")
    eta = _flatten_scores(log_hz, "log_hz")
    t = _flatten_scores(_as_tensor(time, eta, "time"), "time")
    e = _flatten_scores(_as_tensor(event, eta, "event"), "event")
    if not (eta.shape[0] == t.shape[0] == e.shape[0]):
        raise ValueError(
            f"cox_partial_likelihood: log_hz has {eta.shape[0]} values, time {t.shape[0]}, "
            f"event {e.shape[0]}; they must match"
        )
    check_time_event_tensors(t, e, "cox_partial_likelihood")
    e = e != 0
    n_events = int(e.sum().item())
    if n_events == 0:
        raise ValueError(
            "cox_partial_likelihood: no observed events in this batch (all censored); the "
            "partial likelihood is undefined. Use larger batches or stratify batches by event."
        )

    order = torch.argsort(t.detach(), stable=True)
    t_s, e_s, eta_s = t[order], e[order], eta[order]
    # log risk-set sums: at sorted position i, log sum_{j >= i} exp(eta_j), a reverse
    # log-cum-sum-exp (no exponential of a large or very negative eta is ever formed, so risk
    # sets whose terms underflow in float32 still give finite values and gradients)
    log_rev_cum = torch.flip(torch.logcumsumexp(torch.flip(eta_s, [0]), 0), [0])
    _, group, counts = torch.unique_consecutive(t_s, return_inverse=True, return_counts=True)
    first = torch.cumsum(counts, 0) - counts  # first sorted position of each unique time
    ev_group = group[e_s]  # unique-time index of each event
    log_d_ev = log_rev_cum[first][ev_group]  # log D_k for every event

    if ties == "breslow":
        log_den = log_d_ev
    else:
        n_unique = counts.shape[0]
        # E_k / D_k = sum_{i in H_k} exp(eta_i - log D_k), each term in (0, 1]
        ratio = torch.zeros(n_unique, dtype=eta_s.dtype, device=eta_s.device).index_add(
            0, ev_group, torch.exp(eta_s[e_s] - log_d_ev)
        )
        m = torch.zeros(n_unique, dtype=eta_s.dtype, device=eta_s.device).index_add(
            0, ev_group, torch.ones_like(log_d_ev)
        )  # m_k
        cum_events = torch.cumsum(e_s.long(), 0)  # events up to and including position i
        before = cum_events[first] - e_s[first].long()  # events before each unique time
        rank = (cum_events[e_s] - 1 - before[ev_group]).to(eta_s.dtype)  # r = 0 .. m_k - 1
        # log(D_k - r/m_k E_k) = log D_k + log(1 - r/m_k * E_k/D_k); the argument is >= 1/m_k
        log_den = log_d_ev + torch.log1p(-(rank / m[ev_group]) * ratio[ev_group])

    log_lik = (eta_s[e_s] - log_den).sum()
    return -log_lik / n_events


def nll_discrete(
    logits: torch.Tensor,
    bin_index: ArrayLike,
    event: ArrayLike,
    alpha: float = 0.0,
) -> torch.Tensor:
    r"""Logistic-hazard negative log-likelihood of a discrete-time survival model.

    The model outputs one logit per time bin; the hazard of bin :math:`k` is
    :math:`h_k = \sigma(z_k)` (probability of dying in bin :math:`k` having survived to it) and
    the survival through bin :math:`k` is :math:`S_k = \prod_{j \le k} (1 - h_j)`,
    :math:`S_{-1} = 1`. For a patient whose time falls in bin :math:`y`:

    .. math::

        \mathcal{L}_\text{unc} = -\delta\,\big[\log S_{y-1} + \log h_y\big], \qquad
        \mathcal{L}_\text{cens} = -(1 - \delta)\,\log S_y

    (a censored patient survives through its own bin), and

    .. math::

        \mathcal{L} = \frac{1}{N}\sum_i (1-\alpha)\,(\mathcal{L}_\text{unc} +
        \mathcal{L}_\text{cens}) + \alpha\,\mathcal{L}_\text{unc}

    which is the form of SurvPath's / SurvPGC's ``NLLSurvLoss`` (``alpha`` up-weights the
    uncensored term; the papers use ``alpha = 0``). Logs are computed with ``logsigmoid``
    (:math:`\log h = \log\sigma(z)`, :math:`\log(1-h) = \log\sigma(-z)`), so no clamping is
    needed; the reference codes clamp probabilities at ``1e-7`` instead, which only matters
    for extreme logits.

    Args:
        logits: float tensor ``[N, K]`` (K = number of bins).
        bin_index: ``[N]`` integer bin of each patient's time, in ``[0, K-1]`` (see
            :meth:`TimeBins.transform`).
        event: ``[N]`` 1 = death observed, 0 = censored.
        alpha: weight of the extra uncensored term, in ``[0, 1]``.

    Returns:
        Scalar tensor: the mean over patients.

    Example:
        >>> import torch
        >>> logits = torch.zeros(2, 2)  # every hazard is 1/2
        >>> loss = nll_discrete(logits, bin_index=[1, 0], event=[1, 0])
        >>> round(loss.item(), 4)  # (2 log 2 + log 2) / 2
        1.0397
    """
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
        raise ValueError(
            f"logits must be a tensor of shape [N, K], got "
            f"{tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__}"
        )
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    n, k = logits.shape
    y_raw = _as_tensor(bin_index, logits, "bin_index").reshape(-1)
    e_raw = _as_tensor(event, logits, "event").reshape(-1)
    if y_raw.shape[0] == n == e_raw.shape[0] and n:
        check_bin_indices(y_raw, k, "nll_discrete", event=e_raw)
    y = y_raw.long()
    e = e_raw.to(logits.dtype)
    if y.shape[0] != n or e.shape[0] != n:
        raise ValueError(
            f"nll_discrete: logits has {n} rows, bin_index {y.shape[0]}, event {e.shape[0]}"
        )
    if n == 0:
        raise ValueError("nll_discrete: empty batch")
    if int(y.min().item()) < 0 or int(y.max().item()) >= k:
        raise ValueError(
            f"nll_discrete: bin_index must lie in [0, {k - 1}] for {k} bins, got range "
            f"[{int(y.min().item())}, {int(y.max().item())}]"
        )
    log_h = F.logsigmoid(logits)  # log h_k
    log_s = torch.cumsum(F.logsigmoid(-logits), dim=1)  # log S_k
    log_s_pad = torch.cat([torch.zeros_like(log_s[:, :1]), log_s], dim=1)  # log S_{k-1}, k=0..K
    y1 = y.unsqueeze(1)
    log_s_prev = log_s_pad.gather(1, y1).squeeze(1)  # log S_{y-1}
    log_h_this = log_h.gather(1, y1).squeeze(1)  # log h_y
    log_s_this = log_s_pad.gather(1, y1 + 1).squeeze(1)  # log S_y
    uncensored = -e * (log_s_prev + log_h_this)
    censored = -(1.0 - e) * log_s_this
    loss = (1.0 - alpha) * (uncensored + censored) + alpha * uncensored
    return loss.mean()


# --------------------------------------------------------------------------------------------
# Time bins (a fitted transformer) and survival curves
# --------------------------------------------------------------------------------------------


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
        >>> survival_at_times([0.0, 10.0, 20.0], [1.0, 0.8, 0.4], [5.0, 15.0, 30.0]).round(3).tolist()
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
        raise ValueError(f"survival_at_times: times must be finite and non-negative, got {q.tolist()[:8]}")
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


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------


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


def _surv_struct(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    from sksurv.util import Surv

    return Surv.from_arrays(event=event.astype(bool), time=time)


def _within_training_followup(
    time: np.ndarray, event: np.ndarray, train_time: np.ndarray, train_event: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Administratively censor test patients followed beyond the training follow-up.

    The training censoring distribution G is estimable only up to ``t_max = max(train_time)``;
    test patients with ``time > t_max`` (and events at ``t_max`` when ``G(t_max) = 0``) are
    censored at ``t_max``. Quantities evaluated before ``t_max`` do not change.
    """
    t_max = train_time.max()
    at_max = train_time == t_max
    # G(t_max) = 0 exactly when every training patient still at risk at t_max is censored there
    g_zero_at_max = not bool(train_event[at_max].any())
    beyond = time > t_max
    if g_zero_at_max:
        beyond |= (time >= t_max) & (event == 1)
    if beyond.any():
        warnings.warn(
            f"{int(beyond.sum())} test patient(s) followed beyond the training follow-up "
            f"({t_max:g} months) are censored at {t_max:g} months for the IPCW metrics",
            stacklevel=3,
        )
        time = np.where(beyond, t_max, time)
        event = np.where(beyond, 0, event)
    if event.sum() == 0:
        raise ValueError("no test events within the training follow-up; the metric is undefined")
    return time, event


def _valid_times(
    times: ArrayLike, test_time: np.ndarray, out_of_range: OutOfRange, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """Requested times and a mask of those scikit-survival can evaluate: [min, max) of test."""
    if out_of_range not in ("drop", "raise"):
        raise ValueError(f"out_of_range must be 'drop' or 'raise', got {out_of_range!r}")
    q = np.asarray(_to_numpy(times), dtype=np.float64).reshape(-1)
    if q.size == 0 or not np.all(np.isfinite(q)):
        raise ValueError(f"{what}: times must be a non-empty list of finite months")
    if np.any(np.diff(q) <= 0):
        raise ValueError(f"{what}: times must be strictly increasing, got {q.tolist()}")
    lo, hi = test_time.min(), test_time.max()
    ok = (q >= lo) & (q < hi)
    if not ok.all():
        msg = (
            f"{what}: time(s) {q[~ok].tolist()} lie outside the evaluable range [{lo:g}, {hi:g}) "
            f"months of the test follow-up (capped at the training follow-up)"
        )
        if out_of_range == "raise":
            raise ValueError(msg)
        warnings.warn(msg + "; they are reported as NaN", stacklevel=3)
    return q, ok


def _validated(
    time: ArrayLike, event: ArrayLike, train_time: ArrayLike, train_event: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    t, e = validate_survival(_pandas_or_numpy(time), _pandas_or_numpy(event), name="test survival data")
    tt, te = validate_survival(
        _pandas_or_numpy(train_time), _pandas_or_numpy(train_event),
        name="training survival data",
    )
    t, e = _within_training_followup(t, e, tt, te)
    return t, e, tt, te


def concordance(risk: ArrayLike, time: ArrayLike, event: ArrayLike) -> float:
    r"""Harrell's concordance index (scikit-survival ``concordance_index_censored``).

    .. math::

        C = \frac{\sum_{i,j} \mathbb 1[T_i < T_j]\,\delta_i\,
            (\mathbb 1[r_i > r_j] + \tfrac12 \mathbb 1[r_i = r_j])}
            {\sum_{i,j} \mathbb 1[T_i < T_j]\,\delta_i}

    Higher risk = earlier death, so a perfect model scores 1 and a random one 0.5.
    """
    from sksurv.metrics import concordance_index_censored

    a = align_by_index(risk=risk, time=time, event=event)
    t, e = validate_survival(
        _pandas_or_numpy(a["time"]), _pandas_or_numpy(a["event"]), name="concordance"
    )
    r = _risk_array(a["risk"], t.size)
    return float(concordance_index_censored(e.astype(bool), t, r)[0])



def paired_bootstrap_cindex(
    risk_a: ArrayLike,
    risk_b: ArrayLike,
    time: ArrayLike,
    event: ArrayLike,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    r"""Paired bootstrap test of the difference of two models' C-index on the same patients.

    The patients are resampled with replacement ``n_boot`` times (one seeded generator); on
    each resample both risks are scored, :math:`\Delta^*_b = C_a^* - C_b^*`. Returns the
    observed difference ``diff`` (on all patients), the percentile 95 % interval
    ``ci_low``/``ci_high`` of :math:`\Delta^*`, and the two-sided bootstrap p-value
    ``p = min(1, 2 min(P^*(\Delta^* \le 0), P^*(\Delta^* \ge 0)))``. Resamples without a
    comparable pair are skipped (``n_valid`` says how many were kept).

    SurvPGC compares SurvPGC with SurvPath this way fold by fold; its exact procedure (its
    Supplementary Section 6) is not available to us, so this is the standard paired form.
    """
    t, e = validate_survival(_to_numpy(time), _to_numpy(event), name="paired_bootstrap_cindex")
    ra, rb = _risk_array(risk_a, t.size, "risk_a"), _risk_array(risk_b, t.size, "risk_b")
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(int(n_boot)):
        i = rng.integers(0, t.size, t.size)
        if e[i].sum() == 0 or np.unique(t[i]).size < 2:
            continue
        try:
            diffs.append(concordance(ra[i], t[i], e[i]) - concordance(rb[i], t[i], e[i]))
        except (ValueError, ZeroDivisionError):  # no comparable pair in this resample
            continue
    d = np.asarray(diffs, dtype=np.float64)
    out = {"diff": concordance(ra, t, e) - concordance(rb, t, e), "n_valid": float(d.size)}
    if d.size == 0:
        return {**out, "ci_low": float("nan"), "ci_high": float("nan"), "p": float("nan")}
    p = min(1.0, 2.0 * min(np.mean(d <= 0), np.mean(d >= 0)))
    return {**out, "ci_low": float(np.quantile(d, 0.025)), "ci_high": float(np.quantile(d, 0.975)),
            "p": float(p)}


def uno_concordance(
    risk: ArrayLike,
    time: ArrayLike,
    event: ArrayLike,
    train_time: ArrayLike,
    train_event: ArrayLike,
    tau: float | None = None,
) -> float:
    r"""Uno's IPCW concordance (scikit-survival ``concordance_index_ipcw``).

    Pairs are weighted by :math:`\hat G(T_i)^{-2}`, the training censoring distribution, and
    only events before ``tau`` count. Test patients beyond the training follow-up are
    censored there (see the module notes), so ``tau`` is effectively capped at it.
    """
    from sksurv.metrics import concordance_index_ipcw

    a = align_by_index(risk=risk, time=time, event=event)
    t, e, tt, te = _validated(a["time"], a["event"], train_time, train_event)
    r = _risk_array(a["risk"], t.size)
    return float(
        concordance_index_ipcw(_surv_struct(tt, te), _surv_struct(t, e), r, tau=tau)[0]
    )


def td_auc(
    risk_or_surv: ArrayLike,
    time: ArrayLike,
    event: ArrayLike,
    train_time: ArrayLike,
    train_event: ArrayLike,
    times: ArrayLike = DEFAULT_TIMES,
    out_of_range: OutOfRange = "drop",
) -> tuple[np.ndarray, float]:
    r"""Cumulative/dynamic time-dependent AUC at the requested month times (Uno et al. 2007).

    .. math::

        \mathrm{AUC}(t) = \frac{\sum_{i,j} \mathbb 1[T_i \le t]\,\delta_i\,\mathbb 1[T_j > t]\,
            \mathbb 1[r_i(t) > r_j(t)]\,/\hat G(T_i)}
            {\sum_{i} \mathbb 1[T_i \le t]\,\delta_i / \hat G(T_i)\;
             \sum_j \mathbb 1[T_j > t]}

    computed by scikit-survival's ``cumulative_dynamic_auc``; the mean AUC is its integral over
    the test Kaplan-Meier estimate, :math:`\sum_t \mathrm{AUC}(t)\,(\hat S(t^-) - \hat S(t))
    / (1 - \hat S(t_{\max}))`.

    Args:
        risk_or_surv: a 1-D risk score ``[N]`` (time-independent: higher = worse), or survival
            probabilities ``[N, len(times)]`` evaluated **at** ``times`` (e.g. from
            :func:`survival_at_times`); then :math:`r_i(t) = 1 - S_i(t)`.
        time, event: test outcomes.
        train_time, train_event: training outcomes (for the censoring weights).
        times: strictly increasing month times (default 12, 36, 60).
        out_of_range: ``"drop"`` (NaN for times outside the evaluable window, with a warning)
            or ``"raise"``. See the module notes.

    Returns:
        ``(aucs, mean_auc)``: ``aucs[i]`` is the AUC at ``times[i]`` (NaN where dropped);
        ``mean_auc`` integrates over the evaluable times.
    """
    from sksurv.metrics import cumulative_dynamic_auc

    a = align_by_index(risk_or_surv=risk_or_surv, time=time, event=event)
    t, e, tt, te = _validated(a["time"], a["event"], train_time, train_event)
    q, ok = _valid_times(times, t, out_of_range, "td_auc")
    est = _float_array(a["risk_or_surv"], "td_auc: risk_or_surv")
    if est.ndim == 2 and est.shape[1] == 1 and q.size != 1:
        est = est[:, 0]
    if est.ndim == 1:
        est = _risk_array(est, t.size, "risk")
    elif est.ndim == 2:
        if est.shape != (t.size, q.size):
            raise ValueError(
                f"td_auc: a survival matrix must have shape [N, len(times)] = "
                f"[{t.size}, {q.size}], got {est.shape}"
            )
        check_survival_curves(est, "td_auc: risk_or_surv (survival probabilities at times)")
        est = 1.0 - est[:, ok]
    else:
        raise ValueError(f"td_auc: risk_or_surv must be 1-D or 2-D, got shape {est.shape}")
    if not ok.any():
        raise ValueError(f"td_auc: none of the times {q.tolist()} can be evaluated on this data")
    aucs = np.full(q.size, np.nan)
    scores, mean_auc = cumulative_dynamic_auc(_surv_struct(tt, te), _surv_struct(t, e), est, q[ok])
    aucs[ok] = scores
    return aucs, float(mean_auc)



def released_td_auc(
    logits: torch.Tensor | np.ndarray,
    time: ArrayLike,
    event: ArrayLike,
    censor_time: ArrayLike,
    censor_event: ArrayLike,
    times: ArrayLike = DEFAULT_TIMES,
    failed_value: float = float("nan"),
) -> tuple[np.ndarray, float]:
    r"""The time-dependent AUC exactly as SurvPGC's released code computes it (for comparison).

    ``utils/core_utils.py::_calculate_metrics`` (Houjiaxin123/SurvPGC at dc46798) calls
    ``cumulative_dynamic_auc(survival_train, survival_test, estimate=1 - S[:, 1:],
    times=[12, 36, 60])`` where ``S`` is the discrete survival curve at the bin edges
    (:func:`discrete_survival`, one column per bin). The horizons are 12, 36 and 60 months,
    but patient :math:`i` is scored at horizon :math:`t_m` with :math:`1 - S_i(e_{m+1})`, its
    survival at the right edge of bin :math:`m + 1` (with 4 quartile bins: the 2nd and 3rd
    interior edges and the last edge), whatever months those edges are. ``survival_train``
    (the censoring distribution) is the released ``_extract_survival_metadata``: the training,
    validation and test outcomes concatenated — pass them as ``censor_time/censor_event``.

    Args:
        logits: ``[N, K]`` hazard logits; ``K - 1`` must equal ``len(times)`` (the released
            code's shapes; with ``K = 4`` bins and three horizons).
        time, event: test outcomes. censor_time, censor_event: the censoring reference.
        times: the horizons (default 12, 36, 60 months).
        failed_value: what is returned (every AUC and the mean) when scikit-survival refuses
            the inputs (e.g. a horizon beyond the test follow-up). The released code catches
            the error and records 0; the default here is NaN.

    Returns:
        ``(aucs, mean_auc)`` as :func:`td_auc`.
    """
    from sksurv.metrics import cumulative_dynamic_auc

    surv = discrete_survival(logits)
    q = np.asarray(times, dtype=np.float64).reshape(-1)
    if surv.shape[1] - 1 != q.size:
        raise ValueError(f"released_td_auc: the released code scores times with columns 1.. "
                         f"of the survival curve, so it needs n_bins - 1 == len(times); got "
                         f"n_bins={surv.shape[1]}, times={q.tolist()}")
    t, e, tt, te = _validated(time, event, censor_time, censor_event)
    if surv.shape[0] != t.size:
        raise ValueError(f"released_td_auc: logits have {surv.shape[0]} rows, time has {t.size}")
    try:
        scores, mean_auc = cumulative_dynamic_auc(_surv_struct(tt, te), _surv_struct(t, e),
                                                  1.0 - surv[:, 1:], q)
    except ValueError:
        return np.full(q.size, float(failed_value)), float(failed_value)
    return np.asarray(scores, dtype=np.float64), float(mean_auc)


def iauc(
    risk_or_surv: ArrayLike,
    time: ArrayLike,
    event: ArrayLike,
    train_time: ArrayLike,
    train_event: ArrayLike,
    times: ArrayLike = DEFAULT_TIMES,
    out_of_range: OutOfRange = "drop",
) -> float:
    """Integrated (mean) time-dependent AUC over ``times``: the second value of :func:`td_auc`."""
    return td_auc(risk_or_surv, time, event, train_time, train_event, times, out_of_range)[1]


def integrated_brier(
    surv_at_times: ArrayLike,
    time: ArrayLike,
    event: ArrayLike,
    train_time: ArrayLike,
    train_event: ArrayLike,
    times: ArrayLike = DEFAULT_TIMES,
    out_of_range: OutOfRange = "drop",
) -> float:
    r"""Integrated Brier score (Graf et al. 1999; scikit-survival ``integrated_brier_score``).

    .. math::

        \mathrm{BS}(t) = \frac1N \sum_i \Big[\frac{\hat S_i(t)^2\,\mathbb 1[T_i \le t]\,\delta_i}
            {\hat G(T_i)} + \frac{(1 - \hat S_i(t))^2\,\mathbb 1[T_i > t]}{\hat G(t)}\Big],
        \qquad \mathrm{IBS} = \frac{1}{t_{\max} - t_{\min}} \int_{t_{\min}}^{t_{\max}}
            \mathrm{BS}(t)\,dt

    with the integral by the trapezoidal rule over ``times`` (lower is better; 0.25 is an
    uninformative S = 0.5). Use a fine grid (e.g. ``np.linspace``) for a smooth integral.

    Args:
        surv_at_times: ``[N, len(times)]`` survival probabilities evaluated at ``times``.
        times: strictly increasing month times; at least two must be evaluable. Times outside
            the evaluable window are left out (``"drop"``, with a warning) or raise.
    """
    from sksurv.metrics import integrated_brier_score

    a = align_by_index(surv_at_times=surv_at_times, time=time, event=event)
    t, e, tt, te = _validated(a["time"], a["event"], train_time, train_event)
    q, ok = _valid_times(times, t, out_of_range, "integrated_brier")
    s = _float_array(a["surv_at_times"], "integrated_brier: surv_at_times")
    if s.shape != (t.size, q.size):
        raise ValueError(
            f"integrated_brier: surv_at_times must have shape [N, len(times)] = "
            f"[{t.size}, {q.size}], got {s.shape}"
        )
    check_survival_curves(s, "integrated_brier: surv_at_times")
    if ok.sum() < 2:
        raise ValueError(
            f"integrated_brier: needs at least two evaluable times, got {q[ok].tolist()}"
        )
    return float(integrated_brier_score(_surv_struct(tt, te), _surv_struct(t, e), s[:, ok], q[ok]))


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
        float(np.median(r)) if threshold is None
        else check_finite_number(threshold, "median_split: threshold")
    )
    return np.where(r > thr, "high", "low")


def _harrell_matrix(risk: np.ndarray, time: np.ndarray, event: np.ndarray) -> tuple[float, float]:
    """Concordant (ties 1/2) and comparable pair counts of Harrell's C, scikit-survival's rules:
    an event at ``T_i`` is comparable with every ``T_j > T_i`` and with censored ``T_j = T_i``."""
    e = event.astype(bool)
    later = time[None, :] > time[:, None]
    tied_censored = (time[None, :] == time[:, None]) & ~e[None, :]
    comparable = e[:, None] & (later | tied_censored)
    diff = risk[:, None] - risk[None, :]
    score = np.where(np.abs(diff) <= 1e-8, 0.5, (diff > 0).astype(np.float64))
    return float((score * comparable).sum()), float(comparable.sum())


def bootstrap_cindex(
    folds: Sequence[tuple[ArrayLike, ArrayLike, ArrayLike]],
    n_boot: int = 200,
    alpha: float = 0.05,
    seed: int = 0,
) -> dict[str, float]:
    """Percentile bootstrap CI of the mean-over-folds Harrell C-index.

    Each replicate resamples every fold's test patients with replacement (folds stay apart:
    their risks come from different models), computes each fold's C-index (the same pair rules
    as :func:`concordance`) and averages over folds; the interval is the ``alpha/2`` and
    ``1 - alpha/2`` quantiles of those means. Replicates in which a fold has no comparable pair
    leave that fold out of their mean.

    Args:
        folds: per fold ``(risk, time, event)`` of its test patients.
        n_boot: bootstrap replicates.
        alpha: 1 - coverage (0.05: a 95 % interval).
        seed: seeds the resampling.

    Returns:
        ``{"C-index": mean over folds of the observed C, "CI low", "CI high", "n_boot"}``.
    """
    if not folds:
        raise ValueError("bootstrap_cindex: no folds")
    if int(n_boot) < 1 or not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"bootstrap_cindex: need n_boot >= 1 and 0 < alpha < 1, got "
                         f"{n_boot}, {alpha}")
    data = []
    for k, (risk, time, event) in enumerate(folds):
        t, e = validate_survival(_to_numpy(time), _to_numpy(event), name=f"bootstrap fold {k}")
        data.append((_risk_array(risk, t.size), t, e))
    observed = []
    for r, t, e in data:
        num, den = _harrell_matrix(r, t, e)
        observed.append(num / den if den > 0 else np.nan)
    rng = np.random.default_rng(int(seed))
    means = np.empty(int(n_boot))
    for b in range(int(n_boot)):
        cs = []
        for r, t, e in data:
            idx = rng.integers(0, t.size, t.size)
            num, den = _harrell_matrix(r[idx], t[idx], e[idx])
            if den > 0:
                cs.append(num / den)
        means[b] = np.mean(cs) if cs else np.nan
    lo, hi = np.nanquantile(means, [alpha / 2, 1 - alpha / 2])
    return {"C-index": float(np.nanmean(observed)), "CI low": float(lo), "CI high": float(hi),
            "n_boot": float(n_boot)}

