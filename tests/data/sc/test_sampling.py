"""survlib.data.sc.sampling: the inverse-CDF ZINB sampler against scipy's negative binomial."""

from __future__ import annotations

import numpy as np


def test_zinb_sampler_matches_the_distribution():
    """Known answer: the inverse-CDF sampler reproduces the ZINB pmf (scipy's nbinom)."""
    from scipy.stats import nbinom

    from survlib.data.sc.sampling import _zinb_chunk

    mus = np.array([0.05, 0.8, 3.0, 9.0, 25.0], dtype=np.float32)  # last one: gamma-Poisson path
    r = np.array([5.0, 2.0, 1.2, 4.0, 3.0])
    pi = np.array([0.3, 0.2, 0.1, 0.05, 0.02], dtype=np.float32)
    f0 = (pi + (1 - pi) * (1 + mus / r) ** (-r)).astype(np.float32)
    n = 40_000
    x = _zinb_chunk(
        np.random.default_rng(0),
        np.zeros(n, dtype=np.int64),
        mus[None, :],
        f0[None, :],
        pi[None, :],
        r,
    ).toarray()
    for g in range(len(mus)):
        dist = nbinom(r[g], r[g] / (r[g] + mus[g]))
        for k in range(4):
            expected = pi[g] * (k == 0) + (1 - pi[g]) * dist.pmf(k)
            se = np.sqrt(expected * (1 - expected) / n)
            assert abs((x[:, g] == k).mean() - expected) < 5 * se + 1e-4, (g, k)
        mean = (1 - pi[g]) * mus[g]
        assert abs(x[:, g].mean() - mean) < 0.05 * mean + 0.005
