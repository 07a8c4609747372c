"""Tests for survlib.data.tcga on the real TCGA tables, when the team's ../shared/data exists
(counts, event rates and median follow-up recomputed with pandas)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survlib.data import tcga
from tests.data.tcga._files import SHARED_DATA


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="needs the team's ../shared/data")
@pytest.mark.parametrize(
    ("source", "cohort"),
    [("survpgc", "lihc"), ("survpgc", "brca"), ("survpgc", "coadread"), ("survpath", "stad")],
)
def test_real_cohorts_match_pandas(source: str, cohort: str) -> None:
    meta_path = SHARED_DATA / source / "datasets_csv" / "metadata" / f"tcga_{cohort}.csv"
    read = tcga.read_cohort(meta_path)
    raw = pd.read_csv(meta_path).drop_duplicates("case_id")
    assert len(read) == raw["case_id"].nunique()
    assert read.event.mean() == pytest.approx(1 - raw["censorship"].mean())
    assert np.median(read.time) == pytest.approx(raw["survival_months"].median())
    expected = {"lihc": 354, "brca": 1035, "coadread": 298, "stad": 319}[cohort]
    assert len(read) == expected


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="needs the team's ../shared/data")
def test_real_survpgc_splits_have_val_equal_test() -> None:
    folder = SHARED_DATA / "survpgc" / "splits" / "5foldcv" / "tcga_lihc"
    paths = [folder / f"splits_{k}.csv" for k in range(5)]
    table = tcga.describe_splits(paths)
    assert table["val == test"].all()
    cohort = tcga.read_cohort(
        SHARED_DATA / "survpgc" / "datasets_csv" / "metadata" / "tcga_lihc.csv"
    )
    splits = tcga.read_splits(paths, cohort.clinical.index, "honest", event=cohort.event)
    tests = np.concatenate([s.test for s in splits])
    assert len(set(tests)) == len(tests)  # held-out folds are disjoint
    held = set(pd.concat([pd.read_csv(p)["test"] for p in paths]).dropna())
    assert set(cohort.clinical.index[tests]) == held
    assert len(cohort) - len(held) == 1  # the authors' LIHC folds leave one patient out
