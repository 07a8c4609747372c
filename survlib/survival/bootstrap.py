r"""Bootstrap inference: a CI of the C-index over folds, a paired test of two models, and a CI
of a mean over repeated runs (seeds)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from survlib._core.validation import validate_survival
from survlib.survival._arrays import ArrayLike, _risk_array, _to_numpy
from survlib.survival.metrics import concordance

__all__ = ["bootstrap_cindex", "bootstrap_mean_ci", "paired_bootstrap_cindex"]


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
    return {
        **out,
        "ci_low": float(np.quantile(d, 0.025)),
        "ci_high": float(np.quantile(d, 0.975)),
        "p": float(p),
    }


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
        raise ValueError(
            f"bootstrap_cindex: need n_boot >= 1 and 0 < alpha < 1, got {n_boot}, {alpha}"
        )
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
    return {
        "C-index": float(np.nanmean(observed)),
        "CI low": float(lo),
        "CI high": float(hi),
        "n_boot": float(n_boot),
    }


def bootstrap_mean_ci(
    values: ArrayLike, n_boot: int = 2000, alpha: float = 0.05, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (e.g. paired per-seed
    differences of two methods), via :func:`scipy.stats.bootstrap`.

    Args:
        values: at least two finite numbers.
        n_boot: bootstrap resamples.
        alpha: 1 - coverage (0.05: a 95 % interval).
        seed: seeds the resampling.

    Returns:
        ``(low, high)``; both equal the mean when all values are equal.
    """
    from scipy.stats import bootstrap

    v = np.asarray(_to_numpy(values), dtype=np.float64).ravel()
    if v.size < 2 or not np.isfinite(v).all():
        raise ValueError(
            f"bootstrap_mean_ci: values must be at least two finite numbers, got {v.tolist()!r}"
        )
    if int(n_boot) < 1 or not 0.0 < float(alpha) < 1.0:
        raise ValueError(
            f"bootstrap_mean_ci: need n_boot >= 1 and 0 < alpha < 1, got {n_boot}, {alpha}"
        )
    if np.ptp(v) == 0:  # every resample has the same mean
        return float(v[0]), float(v[0])
    res = bootstrap(
        (v,),
        np.mean,
        n_resamples=int(n_boot),
        confidence_level=1.0 - float(alpha),
        method="percentile",
        rng=np.random.default_rng(int(seed)),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)
