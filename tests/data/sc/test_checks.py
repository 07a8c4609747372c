"""survlib.data.sc.checks: every bad cohort validate_sc_cohort refuses (naming the patient or
column), the matrix checks of expression="counts" / "log-normalized", and check_same_genes."""

from __future__ import annotations

import numpy as np
import pytest

from survlib.data.sc import check_same_genes, simulate_sc_cohort, validate_sc_cohort


@pytest.fixture()
def tiny():
    return simulate_sc_cohort(6, 30, 60, setting="distinct", seed=4)


def test_validate_returns_patient_table(tiny):
    t = validate_sc_cohort(tiny, "patient_id", "time", "event", "batch", expression="counts")
    assert len(t) == 6 and list(t.columns) == ["time", "event", "n_cells", "batch"]
    assert t["n_cells"].sum() == tiny.n_obs
    pt = tiny.uns["patients"].set_index("patient_id")
    np.testing.assert_allclose(t["time"], pt.loc[t.index, "time"])


def test_validate_missing_column(tiny):
    with pytest.raises(KeyError, match="survival_months"):
        validate_sc_cohort(tiny, "patient_id", "survival_months", "event")
    with pytest.raises(KeyError, match="sample"):
        validate_sc_cohort(tiny, "patient_id", "time", "event", batch_key="sample")


@pytest.mark.parametrize(
    "value, match",
    [("soon", "numeric"), (np.nan, "NaN"), (-1.0, "negative"), (np.inf, "NaN or infinite")],
)
def test_validate_bad_times(tiny, value, match):
    a = tiny.copy()
    t = a.obs["time"].astype(object)
    t[a.obs["patient_id"] == "P0002"] = value
    a.obs["time"] = t
    with pytest.raises(ValueError, match=match) as err:
        validate_sc_cohort(a)
    assert "P0002" in str(err.value)


@pytest.mark.parametrize("value", [2, -1, np.nan])
def test_validate_bad_events(tiny, value):
    a = tiny.copy()
    e = a.obs["event"].astype(float)
    e[a.obs["patient_id"] == "P0001"] = value
    a.obs["event"] = e
    with pytest.raises(ValueError, match="0/1") as err:
        validate_sc_cohort(a)
    assert "P0001" in str(err.value)


def test_validate_event_as_bool_and_no_events(tiny):
    a = tiny.copy()
    a.obs["event"] = a.obs["event"].astype(bool)
    validate_sc_cohort(a)
    a.obs["event"] = False
    with pytest.raises(ValueError, match="no observed events"):
        validate_sc_cohort(a)
    assert len(validate_sc_cohort(a, require_events=False)) == 6


def test_validate_not_constant_within_patient(tiny):
    a = tiny.copy()
    first = np.flatnonzero(a.obs["patient_id"] == "P0003")[0]
    a.obs.iloc[first, a.obs.columns.get_loc("time")] += 1.0
    with pytest.raises(ValueError, match="constant within a patient.*P0003"):
        validate_sc_cohort(a)
    b = tiny.copy()
    ev = b.obs["event"].to_numpy().copy()
    rows = np.flatnonzero(b.obs["patient_id"] == "P0004")
    ev[rows[0]] = 1 - ev[rows[0]]
    b.obs["event"] = ev
    with pytest.raises(ValueError, match="event.*P0004"):
        validate_sc_cohort(b)


def test_validate_patient_without_cells(tiny):
    a = tiny.copy()
    a.obs["patient_id"] = a.obs["patient_id"].cat.add_categories(["P9999"])
    with pytest.raises(ValueError, match="no cells.*P9999"):
        validate_sc_cohort(a)
    b = tiny.copy()
    pid = b.obs["patient_id"].astype(object)
    pid.iloc[3] = None
    b.obs["patient_id"] = pid
    with pytest.raises(ValueError, match="missing for cells"):
        validate_sc_cohort(b)


def test_validate_empty_and_missing_batch(tiny):
    with pytest.raises(ValueError, match="no cells"):
        validate_sc_cohort(tiny[:0])
    a = tiny.copy()
    b = a.obs["batch"].astype(object)
    b.iloc[0] = None
    a.obs["batch"] = b
    with pytest.raises(ValueError, match="batch.*missing"):
        validate_sc_cohort(a, batch_key="batch")


def test_validate_matrix_checks(tiny):
    a = tiny.copy()
    a.X = a.X.copy()
    a.X.data[0] = -3.0
    with pytest.raises(ValueError, match="negative"):
        validate_sc_cohort(a, expression="counts")
    b = tiny.copy()
    b.X = b.X.copy()
    b.X.data[0] = 0.5
    with pytest.raises(ValueError, match="raw counts"):
        validate_sc_cohort(b, expression="counts")
    with pytest.raises(ValueError, match="looks like raw counts"):
        big = tiny.copy()
        big.X = big.X.copy()
        big.X.data[0] = 100.0
        validate_sc_cohort(big, expression="log-normalized")
    c = tiny.copy()
    c.layers["counts"] = c.X.copy()
    c.X = c.X.copy()
    c.X.data = np.log1p(c.X.data) + 0.01
    validate_sc_cohort(c, expression="log-normalized")
    validate_sc_cohort(c, expression="counts", layer="counts")
    with pytest.raises(KeyError, match="raw"):
        validate_sc_cohort(c, expression="counts", layer="raw")


def test_check_same_genes():
    fit = ["a", "b", "c"]
    np.testing.assert_array_equal(check_same_genes(fit, ["a", "b", "c"]), [0, 1, 2])
    np.testing.assert_array_equal(check_same_genes(fit, ["c", "a", "b"]), [1, 2, 0])
    with pytest.raises(ValueError, match="different order"):
        check_same_genes(fit, ["c", "a", "b"], allow_reorder=False)
    with pytest.raises(ValueError, match=r"missing from the new data: \[c\].*extra.*\[d\]"):
        check_same_genes(fit, ["a", "b", "d"])
    with pytest.raises(ValueError, match="duplicated"):
        check_same_genes(fit, ["a", "b", "c", "c"])
