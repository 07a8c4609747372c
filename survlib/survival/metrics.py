r"""Metrics of risk scores and survival curves (thin wrappers over scikit-survival).

Harrell's C (:func:`concordance`), Uno's IPCW C (:func:`uno_concordance`), the time-dependent
AUC (:func:`td_auc`, :func:`iauc`, and :func:`released_td_auc`, SurvPGC's released variant),
the integrated Brier score (:func:`integrated_brier`), and :func:`fold_metrics`, the book's
test-fold metrics in one call. :data:`DEFAULT_TIMES` are the papers' evaluation months.
Inputs are validated; see the package notes for the evaluation window of the IPCW metrics.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import torch

from survlib._core.validation import (
    align_by_index,
    check_survival_curves,
    validate_survival,
)
from survlib.survival._arrays import (
    ArrayLike,
    _float_array,
    _pandas_or_numpy,
    _risk_array,
    _to_numpy,
)
from survlib.survival.bins import discrete_survival

__all__ = [
    "DEFAULT_TIMES",
    "concordance",
    "fold_metrics",
    "iauc",
    "integrated_brier",
    "released_td_auc",
    "td_auc",
    "uno_concordance",
]

#: The month times at which the papers report time-dependent AUC (1, 3 and 5 years).
DEFAULT_TIMES: tuple[float, ...] = (12.0, 36.0, 60.0)

OutOfRange = Literal["drop", "raise"]


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
    t, e = validate_survival(
        _pandas_or_numpy(time), _pandas_or_numpy(event), name="test survival data"
    )
    tt, te = validate_survival(
        _pandas_or_numpy(train_time),
        _pandas_or_numpy(train_event),
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
    censored there (see the notes of :mod:`survlib.survival`), so ``tau`` is effectively capped
    at it.
    """
    from sksurv.metrics import concordance_index_ipcw

    a = align_by_index(risk=risk, time=time, event=event)
    t, e, tt, te = _validated(a["time"], a["event"], train_time, train_event)
    r = _risk_array(a["risk"], t.size)
    return float(concordance_index_ipcw(_surv_struct(tt, te), _surv_struct(t, e), r, tau=tau)[0])


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
            or ``"raise"``. See the notes of :mod:`survlib.survival`.

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
        raise ValueError(
            f"released_td_auc: the released code scores times with columns 1.. "
            f"of the survival curve, so it needs n_bins - 1 == len(times); got "
            f"n_bins={surv.shape[1]}, times={q.tolist()}"
        )
    t, e, tt, te = _validated(time, event, censor_time, censor_event)
    if surv.shape[0] != t.size:
        raise ValueError(f"released_td_auc: logits have {surv.shape[0]} rows, time has {t.size}")
    try:
        scores, mean_auc = cumulative_dynamic_auc(
            _surv_struct(tt, te), _surv_struct(t, e), 1.0 - surv[:, 1:], q
        )
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


def fold_metrics(
    risk: ArrayLike,
    surv_at_times: ArrayLike,
    time: ArrayLike,
    event: ArrayLike,
    train_time: ArrayLike,
    train_event: ArrayLike,
    times: ArrayLike = DEFAULT_TIMES,
    auc_from: Literal["survival", "risk"] = "survival",
    quiet: bool = True,
) -> dict[str, float]:
    r"""The book's metrics of one test fold: C-index, td-AUC at each time, iAUC, IBS.

    One function for every cross-validated model of the book (the discrete-time recipe of
    :mod:`survlib.models.discrete`, the Cox and MLP folds of chapter 1, the Cox baseline of
    chapter 5), so they are all scored the same way:

    - ``"C-index"``: Harrell's C of ``risk`` (:func:`concordance`);
    - ``"AUC <t>m"`` for each ``t`` in ``times``: Uno's cumulative/dynamic AUC
      (:func:`td_auc`) of :math:`1 - \hat S_i(t)` (``auc_from="survival"``, the default) or of
      the time-independent ``risk`` (``auc_from="risk"``); NaN for a time outside the test
      fold's evaluable window;
    - ``"iAUC"``: their KM-weighted mean;
    - ``"IBS"``: the integrated Brier score of the curves over ``times``
      (:func:`integrated_brier`); NaN when it cannot be computed (e.g. fewer than two
      evaluable times).

    Censoring weights come from the training outcomes ``train_time``, ``train_event``.

    Args:
        risk: ``[N]`` test risk scores (higher = worse).
        surv_at_times: ``[N, len(times)]`` test survival probabilities evaluated *at*
            ``times`` (e.g. :meth:`TimeBins.predict_survival`, :func:`breslow_survival`).
        time, event: test outcomes.
        train_time, train_event: training outcomes.
        times: strictly increasing month times (default :data:`DEFAULT_TIMES`).
        auc_from: score the td-AUC with the survival curves or with ``risk``.
        quiet: silence the IPCW notes (test follow-up beyond the training one, times outside
            the test follow-up; see the package notes), as cross-validation loops want.

    Returns:
        ``{"C-index", "AUC 12m", "AUC 36m", "AUC 60m", "iAUC", "IBS"}`` (with the default times).
    """
    if auc_from not in ("survival", "risk"):
        raise ValueError(f"auc_from must be 'survival' or 'risk', got {auc_from!r}")
    q = np.asarray(times, dtype=np.float64)
    out = {"C-index": concordance(risk, time, event)}
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore", UserWarning)
        scored = surv_at_times if auc_from == "survival" else risk
        aucs, mean_auc = td_auc(scored, time, event, train_time, train_event, q)
        for t, a in zip(q, aucs, strict=True):
            out[f"AUC {t:g}m"] = float(a)
        out["iAUC"] = float(mean_auc)
        try:
            out["IBS"] = integrated_brier(surv_at_times, time, event, train_time, train_event, q)
        except ValueError:
            out["IBS"] = float("nan")
    return out
