"""survlib.data.sc.pbmc: counts recovered from scanpy's pbmc68k_reduced, and the semi-synthetic
cohort built from them (schema, planted cell type, determinism, a lower-risk type, bad types)."""

from __future__ import annotations

import numpy as np
import pytest

from survlib.data.sc import validate_sc_cohort

OBS_COLUMNS = ["patient_id", "time", "event", "batch", "cell_type", "risk_group", "risk_cell"]


@pytest.fixture(scope="module")
def pbmc():
    from survlib.data.sc import semi_synthetic_pbmc_cohort

    return semi_synthetic_pbmc_cohort(n_patients=30, cells_per_patient=100, seed=0)


def test_pbmc_counts_are_counts():
    from survlib.data.sc import pbmc68k_counts

    p = pbmc68k_counts()
    assert p.shape == (700, 765)
    assert p.X.min() >= 0 and np.all(p.X.data == np.round(p.X.data)) and p.X.data.max() > 50


def test_semi_synthetic_schema(pbmc):
    a = pbmc
    assert a.uns["semi_synthetic"] is True and a.uns["simulated"] is True
    for c in OBS_COLUMNS:
        assert c in a.obs.columns
    hi = a.obs["risk_cell"].to_numpy()
    assert (a.obs.loc[hi, "cell_type"] == "CD14+ Monocyte").all()
    assert (a.obs.loc[~hi, "cell_type"] != "CD14+ Monocyte").all()
    pt = a.uns["patients"]
    assert pt["frac_higher"].std() > 0.03
    assert np.corrcoef(pt["frac_higher"], pt["true_risk"])[0, 1] > 0.99
    validate_sc_cohort(a, batch_key="batch", expression="counts")
    b = __import__("survlib.data.sc", fromlist=["x"]).semi_synthetic_pbmc_cohort(
        n_patients=30, cells_per_patient=100, seed=0
    )
    assert (a.X != b.X).nnz == 0  # deterministic


def test_semi_synthetic_lower_type_and_bad_type():
    from survlib.data.sc import semi_synthetic_pbmc_cohort

    a = semi_synthetic_pbmc_cohort(
        10, 50, risk_cell_type="3", label_key="louvain", lower_risk_cell_type="0", seed=1
    )
    assert set(a.obs.loc[a.obs["risk_group"] == "lower", "louvain"]) == {"0"}
    with pytest.raises(ValueError, match="not a value"):
        semi_synthetic_pbmc_cohort(5, 20, risk_cell_type="Martian cell")
