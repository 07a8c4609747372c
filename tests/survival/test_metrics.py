"""Known-answer tests for survlib.survival.metrics (C-index, Uno's C, td-AUC, Brier, fold metrics).

References: lifelines, scikit-survival, hand computations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from survlib import survival as sv
from tests.survival._data import _simulated, _split

# ------------------------------------------------------------------------------------------
# metrics
# ------------------------------------------------------------------------------------------


def test_concordance_matches_lifelines():
    from lifelines.utils import concordance_index

    risk, time, event = _simulated(300)
    noisy = risk + np.random.default_rng(5).normal(size=risk.size)
    c = sv.concordance(noisy, time, event)
    assert c == pytest.approx(concordance_index(time, -noisy, event), abs=1e-10)
    assert 0.6 < c < 0.9
    assert sv.concordance(-noisy, time, event) == pytest.approx(1 - c, abs=1e-10)
    with pytest.raises(ValueError, match="event"):
        sv.concordance(risk, time, np.full(time.size, 2))
    with pytest.raises(ValueError, match="shape"):
        sv.concordance(risk[:-1], time, event)


def test_uno_and_td_auc_match_sksurv():
    from sksurv.metrics import concordance_index_ipcw, cumulative_dynamic_auc
    from sksurv.util import Surv

    risk, time, event, tr = _split()
    te = ~tr
    # keep the test follow-up inside the training one so no censoring adjustment happens
    te &= time < time[tr].max()
    y_tr = Surv.from_arrays(event[tr].astype(bool), time[tr])
    y_te = Surv.from_arrays(event[te].astype(bool), time[te])
    uno = sv.uno_concordance(risk[te], time[te], event[te], time[tr], event[tr])
    assert uno == pytest.approx(concordance_index_ipcw(y_tr, y_te, risk[te])[0])

    times = list(sv.DEFAULT_TIMES)  # 12, 36 and 60 months
    aucs, mean_auc = sv.td_auc(risk[te], time[te], event[te], time[tr], event[tr], times)
    ref_aucs, ref_mean = cumulative_dynamic_auc(y_tr, y_te, risk[te], times)
    np.testing.assert_allclose(aucs, ref_aucs)
    assert mean_auc == pytest.approx(ref_mean)
    assert sv.iauc(risk[te], time[te], event[te], time[tr], event[tr], times) == pytest.approx(
        ref_mean
    )
    # survival matrix input at the requested times: risk_t = 1 - S(t)
    surv = sv.breslow_survival(risk[tr], time[tr], event[tr], risk[te], times)
    aucs2, _ = sv.td_auc(surv, time[te], event[te], time[tr], event[tr], times)
    ref2, _ = cumulative_dynamic_auc(y_tr, y_te, 1 - surv, times)
    np.testing.assert_allclose(aucs2, ref2)


def test_td_auc_out_of_range_times():
    risk, time, event, tr = _split()
    te = ~tr
    late = [12.0, 36.0, 1e4]
    with pytest.warns(UserWarning, match="outside the evaluable range"):
        aucs, mean_auc = sv.td_auc(risk[te], time[te], event[te], time[tr], event[tr], late)
    assert np.isnan(aucs[2]) and np.isfinite(aucs[:2]).all() and np.isfinite(mean_auc)
    with pytest.raises(ValueError, match="outside the evaluable range"):
        sv.td_auc(risk[te], time[te], event[te], time[tr], event[tr], late, out_of_range="raise")
    with pytest.raises(ValueError, match="increasing"):
        sv.td_auc(risk[te], time[te], event[te], time[tr], event[tr], [36.0, 12.0])


def test_metrics_censor_beyond_training_followup():
    """A test patient followed beyond the training follow-up is censored there; metrics at
    earlier times are unchanged (compared with sksurv on the pre-censored data)."""
    from sksurv.metrics import cumulative_dynamic_auc
    from sksurv.util import Surv

    risk, time, event, tr = _split()
    te = ~tr
    t_te, e_te = time[te].copy(), event[te].copy()
    t_max = time[tr].max()
    t_te[0], e_te[0] = t_max + 50.0, 1  # beyond the training follow-up
    with pytest.warns(UserWarning, match="beyond the training follow-up"):
        aucs, _ = sv.td_auc(risk[te], t_te, e_te, time[tr], event[tr], [12.0, 36.0])
    t_ref, e_ref = t_te.copy(), e_te.copy()
    t_ref[0], e_ref[0] = t_max, 0
    ref, _ = cumulative_dynamic_auc(
        Surv.from_arrays(event[tr].astype(bool), time[tr]),
        Surv.from_arrays(e_ref.astype(bool), t_ref),
        risk[te],
        [12.0, 36.0],
    )
    np.testing.assert_allclose(aucs, ref)
    with pytest.warns(UserWarning):
        assert np.isfinite(sv.uno_concordance(risk[te], t_te, e_te, time[tr], event[tr]))


def test_integrated_brier_matches_sksurv():
    from sksurv.metrics import integrated_brier_score
    from sksurv.util import Surv

    risk, time, event, tr = _split()
    te = ~tr & (time < time[tr].max())
    grid = np.linspace(6.0, 60.0, 10)
    surv = sv.breslow_survival(risk[tr], time[tr], event[tr], risk[te], grid)
    ibs = sv.integrated_brier(surv, time[te], event[te], time[tr], event[tr], grid)
    ref = integrated_brier_score(
        Surv.from_arrays(event[tr].astype(bool), time[tr]),
        Surv.from_arrays(event[te].astype(bool), time[te]),
        surv,
        grid,
    )
    assert ibs == pytest.approx(ref)
    assert 0 < ibs < 0.25
    with pytest.raises(ValueError, match="shape"):
        sv.integrated_brier(surv[:, :3], time[te], event[te], time[tr], event[tr], grid)


def _km(times: np.ndarray, events: np.ndarray, at: float) -> float:
    """Kaplan-Meier survival at ``at`` by hand (product over distinct event times <= at)."""
    s = 1.0
    for u in np.unique(times[(events == 1) & (times <= at)]):
        s *= 1.0 - np.sum((times == u) & (events == 1)) / np.sum(times >= u)
    return s


def test_released_td_auc_equals_hand_computation() -> None:
    """SurvPGC's released AUC: horizons 12/36/60 months, patient i scored with 1 - S_i at
    columns 1, 2, 3 of its 4-bin survival curve; Uno's IPCW AUC and the KM-weighted mean,
    computed here by hand."""
    from survlib.survival import released_td_auc

    rng = np.random.default_rng(3)
    logits = rng.normal(size=(8, 4))
    t = np.array([5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 70.0, 80.0])
    e = np.array([1, 1, 0, 1, 1, 0, 1, 0])
    ct = np.r_[t, [7.0, 25.0, 33.0, 65.0, 90.0]]  # censoring reference (train + val + test)
    ce = np.r_[e, [0, 1, 0, 0, 1]]
    surv = np.cumprod(1.0 - 1.0 / (1.0 + np.exp(-logits)), axis=1)
    horizons = np.array([12.0, 36.0, 60.0])
    hand = []
    for m, h in enumerate(horizons):
        score = 1.0 - surv[:, m + 1]  # the bin-edge column, not S at h months
        num = den = 0.0
        for i in np.flatnonzero((t <= h) & (e == 1)):
            w = 1.0 / _km(ct, 1 - ce, t[i])  # censoring survival G(T_i)
            for j in np.flatnonzero(t > h):
                num += w * (score[i] > score[j])
                den += w
        hand.append(num / den)
    hand = np.array(hand)
    s_h = np.array([_km(t, e, h) for h in horizons])
    hand_mean = float(np.sum(-np.diff(np.r_[1.0, s_h]) * hand) / (1.0 - s_h[-1]))
    aucs, mean_auc = released_td_auc(logits, t, e, ct, ce, horizons)
    np.testing.assert_allclose(aucs, hand, atol=1e-12)
    assert mean_auc == pytest.approx(hand_mean, abs=1e-12)
    with pytest.raises(ValueError, match="n_bins - 1 == len"):
        released_td_auc(logits[:, :3], t, e, ct, ce, horizons)
    # a horizon beyond the test follow-up: scikit-survival refuses, the released code records 0
    a0, m0 = released_td_auc(logits, t, e, ct, ce, [12.0, 36.0, 99.0], failed_value=0.0)
    assert m0 == 0.0 and (a0 == 0.0).all()


def test_default_times_are_the_papers_months() -> None:
    assert sv.DEFAULT_TIMES == (12.0, 36.0, 60.0)


def test_fold_metrics_equals_its_parts() -> None:
    """fold_metrics = concordance + td_auc (of the curves, or of the risk) + integrated_brier."""
    risk, time, event, tr = _split()
    te = ~tr
    te &= time < time[tr].max()  # no censoring adjustment: the parts warn about nothing
    times = np.array(sv.DEFAULT_TIMES)
    surv = sv.breslow_survival(risk[tr], time[tr], event[tr], risk[te], times)
    args = (time[te], event[te], time[tr], event[tr])
    m = sv.fold_metrics(risk[te], surv, *args)
    assert list(m) == ["C-index", "AUC 12m", "AUC 36m", "AUC 60m", "iAUC", "IBS"]
    aucs, mean_auc = sv.td_auc(surv, *args, times)
    assert m["C-index"] == sv.concordance(risk[te], time[te], event[te])
    assert [m[f"AUC {t:g}m"] for t in times] == aucs.tolist()
    assert m["iAUC"] == mean_auc
    assert m["IBS"] == sv.integrated_brier(surv, *args, times)
    by_risk = sv.fold_metrics(risk[te], surv, *args, auc_from="risk")
    assert by_risk["iAUC"] == sv.iauc(risk[te], *args, times)
    # one evaluable time: the AUC there, NaN elsewhere and for the IBS (needs two)
    late = sv.fold_metrics(risk[te], surv[:, :1], *args, times=times[:1])
    assert list(late) == ["C-index", "AUC 12m", "iAUC", "IBS"] and math.isnan(late["IBS"])
    with pytest.raises(ValueError, match="auc_from"):
        sv.fold_metrics(risk[te], surv, *args, auc_from="curves")
