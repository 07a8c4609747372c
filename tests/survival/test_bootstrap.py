"""Known-answer tests for survlib.survival.bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from survlib import survival as sv


def test_paired_bootstrap_cindex_known_answers() -> None:
    rng = np.random.default_rng(0)
    n = 120
    risk = rng.normal(size=n)
    t = rng.exponential(np.exp(-risk))  # higher risk, earlier death
    e = (rng.random(n) < 0.7).astype(int)
    noise = rng.normal(size=n)
    res = sv.paired_bootstrap_cindex(risk, noise, t, e, n_boot=40, seed=1)
    assert res["diff"] == pytest.approx(sv.concordance(risk, t, e) - sv.concordance(noise, t, e))
    assert res["diff"] > 0.1 and res["ci_low"] > 0 and res["p"] < 0.05
    same = sv.paired_bootstrap_cindex(risk, risk, t, e, n_boot=20, seed=1)
    assert same["diff"] == 0.0 and same["p"] == 1.0 and same["n_valid"] == 20
    again = sv.paired_bootstrap_cindex(risk, noise, t, e, n_boot=40, seed=1)
    assert again == res  # seeded
    with pytest.raises(ValueError, match="n_boot"):
        sv.paired_bootstrap_cindex(risk, noise, t, e, n_boot=0)


def test_bootstrap_cindex_matches_sksurv_and_covers() -> None:
    rng = np.random.default_rng(3)
    folds = []
    for _ in range(3):
        n = 60
        risk = rng.normal(size=n)
        time = np.round(rng.exponential(np.exp(-risk)) * 10, 0) + 1  # tied times on purpose
        event = rng.integers(0, 2, n)
        risk[:5] = risk[0]  # tied risks
        folds.append((risk, time, event))
    out = sv.bootstrap_cindex(folds, n_boot=200, seed=0)
    expected = np.mean([sv.concordance(r, t, e) for r, t, e in folds])  # scikit-survival
    assert out["C-index"] == pytest.approx(expected, abs=1e-12)
    assert out["CI low"] < expected < out["CI high"]
    assert 0.5 < out["CI low"] and out["CI high"] - out["CI low"] < 0.25
    noise = [(rng.normal(size=60), t, e) for _, t, e in folds]
    ci = sv.bootstrap_cindex(noise, n_boot=200, seed=0)
    assert ci["CI low"] < 0.5 < ci["CI high"]  # no signal: the interval covers chance


def test_bootstrap_mean_ci_covers_the_mean_like_the_normal_interval() -> None:
    rng = np.random.default_rng(4)
    values = rng.normal(0.3, 1.0, size=400)
    lo, hi = sv.bootstrap_mean_ci(values, n_boot=4000, seed=1)
    half = 1.96 * values.std(ddof=1) / np.sqrt(values.size)  # the normal-theory interval
    assert lo < values.mean() < hi
    assert lo == pytest.approx(values.mean() - half, abs=0.02)
    assert hi == pytest.approx(values.mean() + half, abs=0.02)
    assert sv.bootstrap_mean_ci(values, n_boot=500, seed=2) == sv.bootstrap_mean_ci(
        values, n_boot=500, seed=2
    )  # seeded
    narrow = sv.bootstrap_mean_ci(values, n_boot=4000, alpha=0.5, seed=1)
    assert lo < narrow[0] < narrow[1] < hi


def test_bootstrap_mean_ci_small_and_bad_inputs() -> None:
    assert sv.bootstrap_mean_ci([0.1, 0.1, 0.1]) == (0.1, 0.1)
    values = [-0.2, 0.0, 0.1, 0.3, 0.5]
    lo, hi = sv.bootstrap_mean_ci(values)
    assert min(values) <= lo < np.mean(values) < hi <= max(values)
    for bad in ([], [0.2], [0.1, float("nan")]):
        with pytest.raises(ValueError, match="values must be at least two finite"):
            sv.bootstrap_mean_ci(bad)
    with pytest.raises(ValueError, match="alpha"):
        sv.bootstrap_mean_ci(values, alpha=1.5)
