"""Cross-validation (survlib.train.cv): splits, the fold runner, tidy results and summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survlib import train as tr

# ------------------------------------------------------------------------------------------
# CV splits
# ------------------------------------------------------------------------------------------


@pytest.fixture
def event() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random(203) < 0.3).astype(int)


def test_cv_splits_properties(event):
    n = event.size
    splits = tr.cv_splits(event, n_folds=5, val_fraction=0.2, seed=0)
    assert [s.fold for s in splits] == list(range(5))
    tests = np.concatenate([s.test for s in splits])
    assert np.array_equal(np.sort(tests), np.arange(n))  # disjoint and covering
    rate = event.mean()
    for s in splits:
        assert np.intersect1d(s.val, s.test).size == 0
        assert np.intersect1d(s.train, s.test).size == 0
        assert np.intersect1d(s.train, s.val).size == 0
        assert np.array_equal(np.sort(np.concatenate([s.train, s.val, s.test])), np.arange(n))
        assert abs(event[s.test].mean() - rate) < 0.05  # stratified by event
        assert abs(event[s.val].mean() - rate) < 0.08
        assert s.val.size == pytest.approx(0.2 * (n - s.test.size), abs=1)


def test_cv_splits_seeded(event):
    a = tr.cv_splits(event, seed=1)
    b = tr.cv_splits(event, seed=1)
    c = tr.cv_splits(event, seed=2)
    assert all(
        np.array_equal(x.test, y.test) and np.array_equal(x.val, y.val)
        for x, y in zip(a, b, strict=True)
    )
    assert not all(np.array_equal(x.test, y.test) for x, y in zip(a, c, strict=True))
    no_val = tr.cv_splits(event, n_folds=3, val_fraction=0.0)
    assert all(s.val.size == 0 for s in no_val)


def test_cv_splits_errors():
    with pytest.raises(ValueError, match="0/1"):
        tr.cv_splits([0, 1, 2, 1, 0])
    with pytest.raises(ValueError, match="rarer event class"):
        tr.cv_splits([1, 1, 0, 0, 0, 0, 0, 0], n_folds=5)
    with pytest.raises(ValueError, match="val_fraction"):
        tr.cv_splits([0, 1] * 10, val_fraction=1.0)


# ------------------------------------------------------------------------------------------
# cross-validation results
# ------------------------------------------------------------------------------------------


def test_cross_validate_and_summarize(event):
    seen = []

    def run_fold(split, seed):
        seen.append((seed, split.fold, split.test.size))
        return {"cindex": 0.6 + 0.01 * split.fold + 0.1 * seed, "n_test": float(split.test.size)}

    df = tr.cross_validate(run_fold, event, n_folds=3, seeds=(0, 1), model="toy", progress=False)
    assert list(df.columns) == ["model", "fold", "seed", "metric", "value"]
    assert len(df) == 2 * 3 * 2 and len(seen) == 6
    assert set(df["model"]) == {"toy"} and set(df["seed"]) == {0, 1}
    summary = tr.summarize(df)
    row = summary.set_index("metric").loc["cindex"]
    vals = [0.6 + 0.01 * f + 0.1 * s for s in (0, 1) for f in range(3)]
    assert row["mean"] == pytest.approx(np.mean(vals))
    assert row["sd"] == pytest.approx(np.std(vals, ddof=1))
    assert row["n"] == 6
    assert row["mean ± sd"] == f"{np.mean(vals):.3f} ± {np.std(vals, ddof=1):.3f}"


def test_tidy_results_concat_and_check():
    a = tr.tidy_results([{"model": "a", "fold": 0, "seed": 0, "metric": "c", "value": 0.5}])
    b = pd.DataFrame(
        [{"model": "b", "fold": 1, "seed": 0, "metric": "c", "value": 0.7, "extra": 1}]
    )
    both = tr.tidy_results([a, b])
    assert both["model"].tolist() == ["a", "b"] and list(both.columns) == tr.RESULT_COLUMNS
    assert tr.summarize(both)["mean ± sd"].tolist() == ["0.500", "0.700"]  # n = 1: no sd
    with pytest.raises(KeyError, match="metric"):
        tr.tidy_results([{"model": "a", "fold": 0, "seed": 0, "value": 1.0}])
