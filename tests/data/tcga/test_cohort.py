"""Tests for survlib.data.tcga's reading of a cohort (read_cohort, prompt_fields, and bags from
CLAM ``.h5`` files) on small files in exactly the authors' formats (headers copied from the
SurvPGC/SurvPath repositories' files)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from survlib.data import tcga


def test_read_cohort_one_row_per_patient_event_is_one_minus_censorship(files) -> None:
    cohort = tcga.read_cohort(files["metadata"], name="TCGA-X")
    assert list(cohort.clinical.index) == ["P1", "P2", "P3", "P4", "P5", "P6"]
    assert cohort.event.tolist() == [1, 1, 0, 0, 1, 0]
    assert cohort.time.tolist() == [23.8, 53.4, 63.7, 10.0, 5.5, 40.0]
    assert cohort.clinical["sex"].tolist()[:3] == ["male", "male", "female"]
    assert cohort.attrs["slides"]["P1"] == ["P1-01Z-00-DX1.AAA.svs", "P1-01Z-00-DX2.BBB.svs"]
    assert cohort.expression.shape == (6, 0) and not cohort.attrs["simulated"]


def test_modalities_intersect_with_a_report(files) -> None:
    cohort = tcga.read_cohort(
        files["metadata"],
        clinical=files["clinical"],
        rna=files["rna"],
        signatures=files["signatures"],
        prompts=files["prompts"],
    )
    assert list(cohort.clinical.index) == ["P1", "P2", "P3", "P4"]
    dropped = cohort.attrs["dropped"]
    gone = dropped[dropped["reason"].str.startswith("no ")]
    assert sorted(zip(gone["patient"], gone["modality"], strict=True)) == [
        ("P5", "rna"),
        ("P6", "clinical"),
    ]
    assert ("P4", "clinical") in set(
        zip(dropped["patient"], dropped["modality"], strict=True)
    )  # conflict
    assert cohort.clinical.loc["P2", "stage_group"] == "III"
    assert cohort.clinical.loc["P3", "stage"] == "not reported"
    # expression aligned to the pathway genes, in PathwayMembership order
    assert list(cohort.expression.columns) == cohort.pathways.genes == ["APIP", "FMO2", "PLCE1"]
    assert cohort.expression.loc["P2", "PLCE1"] == 6.0
    assert cohort.attrs["signature_info"]["pathway genes missing from rna"] == 1
    assert tcga.prompt_fields(cohort)[0] == "prompt_subtype"
    assert cohort.clinical.loc["P4", "prompt_age"] == "The age is 70 years old."


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.replace("survival_months,", "months,", 1), "lacks column"),
        (lambda t: t.replace(",10.0,10.0,10.0,", ",ten,10.0,10.0,", 1), "must be numeric"),
        (
            lambda t: t.replace(",23.8,23.8,23.8,0,", ",99.0,23.8,23.8,0,", 1),
            "conflicting survival",
        ),
        (lambda t: t.replace(",5.5,5.5,5.5,0,", ",-5.5,5.5,5.5,0,", 1), "negative"),
        (lambda t: t.replace(",5.5,5.5,5.5,0,", ",5.5,5.5,5.5,2,", 1), "censorship must be 0/1"),
    ],
)
def test_bad_metadata_names_file_and_problem(files, mutate, message) -> None:
    text = files["metadata"].read_text()
    files["metadata"].write_text(mutate(text))
    with pytest.raises(ValueError, match=message) as info:
        tcga.read_cohort(files["metadata"])
    assert str(files["metadata"]) in str(info.value)


def test_bad_rna_and_missing_files(files, tmp_path: Path) -> None:
    other = tmp_path / "other_rna.csv"
    pd.DataFrame({"FMO2": [1.0]}, index=["Q9"]).to_csv(other)
    with pytest.raises(ValueError, match="shares no patient") as info:
        tcga.read_cohort(files["metadata"], rna=other)
    assert str(other) in str(info.value)
    pd.DataFrame({"FMO2": ["high"]}, index=["P1"]).to_csv(other)
    with pytest.raises(ValueError, match="not numeric"):
        tcga.read_cohort(files["metadata"], rna=other)
    with pytest.raises(FileNotFoundError, match="clinical file"):
        tcga.read_cohort(files["metadata"], clinical=tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="signatures need an rna"):
        tcga.read_cohort(files["metadata"], signatures=files["signatures"])


def test_constant_genes_are_removed_and_reported(files, tmp_path: Path) -> None:
    rna = pd.DataFrame({"FMO2": [1.0, 2.0, 3.0], "VAMP7": [-9.9658] * 3}, index=["P1", "P2", "P3"])
    path = tmp_path / "rna_const.csv"
    rna.to_csv(path)
    cohort = tcga.read_cohort(files["metadata"], rna=path)
    assert list(cohort.expression.columns) == ["FMO2"]
    assert cohort.attrs["dropped"]["reason"].str.contains("constant gene").any()


def test_slide_features_from_clam_h5(files, tmp_path: Path) -> None:
    cohort = tcga.read_cohort(files["metadata"])
    folder = tmp_path / "h5_files"
    folder.mkdir()
    rng = np.random.default_rng(0)
    sizes = {
        "P1-01Z-00-DX1.AAA": 3,
        "P1-01Z-00-DX2.BBB": 2,
        "P2-01Z-00-DX1.AAA": 4,
        "P3-01Z-00-DX1.AAA": 1,
    }
    for stem, n in sizes.items():
        with h5py.File(folder / f"{stem}.h5", "w") as fh:
            fh["features"] = rng.normal(size=(n, 8)).astype(np.float32)
            fh["coords"] = rng.integers(0, 10000, size=(n, 2))
    out = tcga.attach_slide_features(cohort, folder)
    assert list(out.clinical.index) == ["P1", "P2", "P3"]
    assert [len(b) for b in out.bags] == [5, 4, 1] and out.d_patch == 8
    assert out.coords[0].shape == (5, 2)
    assert set(out.attrs["dropped"]["patient"]) >= {"P4", "P5", "P6"}
    with h5py.File(folder / "P4-01Z-00-DX1.AAA.h5", "w") as fh:
        fh["features"] = np.zeros((2, 8), np.float32)
    with pytest.raises(ValueError, match="'coords'"):
        tcga.attach_slide_features(cohort, folder)
