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
