"""Known-answer tests for survlib.survival.bins (time bins, survival curves).

References: the SurvPath/SurvPGC binning rule, hand computations, lifelines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from survlib import survival as sv
from tests.survival._data import _simulated

# ------------------------------------------------------------------------------------------
# time bins and curves
# ------------------------------------------------------------------------------------------


def test_time_bins_follow_reference_rule():
    _, time, event = _simulated(200, seed=2)
    bins = sv.make_time_bins(time, event, n_bins=4)
    _, q = pd.qcut(time[event == 1], q=4, retbins=True, labels=False)
    assert bins.edges.shape == (5,)
    np.testing.assert_allclose(bins.edges[1:-1], q[1:-1])
    assert bins.edges[0] == pytest.approx(time.min() - 1e-6)
    assert bins.edges[-1] == pytest.approx(time.max() + 1e-6)
    # the reference codes' labels: pd.cut(right=False) on the widened edges
    ref = pd.cut(time, bins=bins.edges, labels=False, right=False, include_lowest=True)
    np.testing.assert_array_equal(bins.transform(time), ref)
    # about a quarter of the events in each bin
    counts = np.bincount(bins.transform(time[event == 1]), minlength=4)
    assert counts.min() >= event.sum() // 4 - 1
    # out of range times are clipped to the end bins; midpoints
    assert bins.transform([0.0, 1e6]).tolist() == [0, 3]
    np.testing.assert_allclose(bins.midpoints, (bins.edges[:-1] + bins.edges[1:]) / 2)


def test_time_bins_errors():
    with pytest.raises(ValueError, match="fewer bins"):
        sv.make_time_bins([1.0, 1.0, 1.0, 2.0], [1, 1, 1, 0], n_bins=4)
    with pytest.raises(RuntimeError, match="not fitted"):
        sv.TimeBins().transform([1.0])
    with pytest.raises(ValueError, match="negative"):
        sv.make_time_bins([-1.0, 2.0], [1, 1], n_bins=1)


def test_discrete_survival_and_interpolation():
    z = torch.logit(torch.tensor([[0.2, 0.5, 0.5]], dtype=torch.float64))
    np.testing.assert_allclose(sv.discrete_survival(z), [[0.8, 0.4, 0.2]])
    assert sv.discrete_risk(z)[0] == pytest.approx(-1.4)
    edges = np.array([0.0, 10.0, 20.0, 40.0])
    curve = np.array([[1.0, 0.8, 0.4, 0.2]])
    got = sv.survival_at_times(edges, curve, [0.0, 5.0, 10.0, 30.0, 100.0])
    np.testing.assert_allclose(got, [[1.0, 0.9, 0.8, 0.3, 0.2]])
    # at 12 months the value is not the edge value at 10 or 20
    s12 = sv.survival_at_times(edges, curve, [12.0])[0, 0]
    assert s12 == pytest.approx(0.8 - 0.4 * 2 / 10) and s12 not in (0.8, 0.4)
    # step: right-continuous, 1 before the first point
    got = sv.survival_at_times([5.0, 10.0], [0.9, 0.5], [1.0, 5.0, 7.0, 10.0, 11.0], "step")
    np.testing.assert_allclose(got, [1.0, 0.9, 0.9, 0.5, 0.5])
    # TimeBins.predict_survival == interpolation on (edges, [1, S])
    bins = sv.TimeBins(n_bins=3, edges=edges.copy())
    np.testing.assert_allclose(bins.predict_survival(z, [12.0]), [[0.8 - 0.4 * 0.2]])


def test_breslow_survival_matches_lifelines(rossi, lifelines_cph):
    x, t, e, cols = rossi
    beta = lifelines_cph.params_[cols].to_numpy()
    eta = x @ beta
    times = np.array([1.0, 10.0, 20.0, 30.0, 52.0])  # observed weeks
    ours = sv.breslow_survival(eta, t, e, eta[:20], times)
    df = pd.DataFrame(x[:20], columns=cols)
    ref = lifelines_cph.predict_survival_function(df, times=times).to_numpy().T
    np.testing.assert_allclose(ours, ref, atol=1e-6)
