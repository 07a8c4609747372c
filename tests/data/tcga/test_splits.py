"""Tests for survlib.data.tcga's split files (read_splits, describe_splits) on small files in the
authors' formats (SurvPGC's train/val/test and SurvPath's train/val)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from survlib.data import tcga
from tests.data.tcga._files import SPLIT_HEADER


def _split_files(tmp_path: Path, with_test: bool) -> list[Path]:
    folds = [
        (["P1", "P2", "P3", "P4"], ["P5", "P6"]),
        (["P3", "P4", "P5", "P6"], ["P1", "P2"]),
        (["P1", "P2", "P5", "P6"], ["P3", "P4"]),
    ]
    paths = []
    for k, (train, held) in enumerate(folds):
        frame = pd.DataFrame({"train": train, "val": held + [None] * 2})
        if with_test:
            frame["test"] = frame["val"]
        p = tmp_path / f"splits_{k}.csv"
        frame.to_csv(p)
        paths.append(p)
    return paths


def test_read_splits_published_and_honest(files, tmp_path: Path) -> None:
    cohort = tcga.read_cohort(files["metadata"])
    paths = _split_files(tmp_path, with_test=True)
    assert pd.read_csv(paths[0], index_col=0).columns.tolist() == SPLIT_HEADER.split(",")[1:]
    assert tcga.describe_splits(paths)["val == test"].all()
    published = tcga.read_splits(paths, cohort.clinical.index, protocol="published")
    assert published[0].test.tolist() == [4, 5] and published[0].val.tolist() == [4, 5]
    assert published[0].train.tolist() == [0, 1, 2, 3]
    honest = tcga.read_splits(paths, cohort.clinical.index, protocol="honest", val_fraction=0.25)
    for h, p in zip(honest, published, strict=True):
        assert h.test.tolist() == p.test.tolist()
        assert not set(h.val) & set(h.test) and len(h.val) == 1
        assert sorted([*h.train, *h.val]) == p.train.tolist()
    (tmp_path / "sp").mkdir()
    survpath = _split_files(tmp_path / "sp", with_test=False)  # SurvPath's train/val files
    assert not tcga.describe_splits(survpath)["val == test"].any()
    assert tcga.read_splits(survpath, cohort.clinical.index, "published")[1].test.tolist() == [0, 1]
    with pytest.raises(ValueError, match="protocol"):
        tcga.read_splits(paths, cohort.clinical.index, protocol="leaky")
