"""Gene -> pathway membership (survlib.data.multimodal.pathways): simulated sizes, SurvPath's file,
the offline fallback.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survlib.data.multimodal import (
    MultimodalCohort,
    load_survpath_pathways,
    simulate_multimodal_cohort,
    simulate_pathway_membership,
)
from tests.data.multimodal._data import SMALL


def test_pathway_membership_and_prognostic_pathways(cohort: MultimodalCohort) -> None:
    pm = cohort.pathways
    assert pm.matrix.shape == (12, 120)
    assert bool(pm.matrix.any(dim=0).all())  # every gene is in a pathway
    assert list(cohort.expression.columns) == pm.genes
    assert set(cohort.truth.prognostic_pathways) <= set(pm.pathway_names)
    big = simulate_pathway_membership(331, 4999, seed=0)
    sizes = big.sizes
    assert sizes.min() >= 5 and 20 <= np.median(sizes) <= 45 and sizes.max() > 100


def test_survpath_pathways_from_file_and_offline_fallback(tmp_path, monkeypatch) -> None:
    csv = tmp_path / "combine_signatures.csv"
    pd.DataFrame(
        {"HALLMARK_A": ["TP53", "MYC", "EGFR"], "REACTOME_B": ["MYC", "KRAS", np.nan]}
    ).to_csv(csv, index=False)
    pm = load_survpath_pathways(csv)
    assert pm.pathway_names == ["HALLMARK_A", "REACTOME_B"]
    assert pm.genes == ["EGFR", "KRAS", "MYC", "TP53"]
    assert pm.sizes.tolist() == [3, 2]
    # offline with an empty cache: "auto" simulates the pathways and never downloads
    monkeypatch.setenv("SURVLIB_DATA_DIR", str(tmp_path / "empty_cache"))
    assert load_survpath_pathways() is None
    c = simulate_multimodal_cohort(30, seed=0, pathways="auto", **SMALL)
    assert c.attrs["pathway_source"] == "simulated"
