"""Known-answer tests for survlib.survival.km (Kaplan-Meier, log-rank, median split):
lifelines is the reference.
"""

from __future__ import annotations

import numpy as np
import pytest

from survlib import survival as sv
from tests.survival._data import _simulated


def test_km_logrank_median_split():
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import logrank_test

    risk, time, event = _simulated(200, seed=4)
    km = sv.km_curve(time, event)
    assert list(km.columns) == ["time", "survival", "lower", "upper"]
    ref = KaplanMeierFitter().fit(time, event).survival_function_.iloc[:, 0].to_numpy()
    np.testing.assert_allclose(km["survival"], ref)
    assert km["survival"].iloc[0] == 1.0 and (km["lower"] <= km["survival"]).all()
    assert (km["survival"] <= km["upper"]).all()

    groups = sv.median_split(risk)
    assert set(groups) == {"high", "low"} and (groups == "high").sum() == 100
    hi = groups == "high"
    p = sv.logrank_p(time, event, groups)
    ref_p = logrank_test(time[hi], time[~hi], event[hi], event[~hi]).p_value
    assert p == pytest.approx(ref_p) and p < 1e-3
    np.testing.assert_array_equal(
        sv.median_split([1.0, 2.0, 3.0], threshold=2.5), ["low", "low", "high"]
    )
    with pytest.raises(ValueError, match="two groups"):
        sv.logrank_p(time, event, np.zeros(time.size))
