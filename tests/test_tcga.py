"""Tests for survlib.data.tcga on small files in exactly the authors' formats (headers copied from
the SurvPGC/SurvPath repositories' files) and, when the team's ../shared/data exists, on the real
TCGA tables (counts, event rates and median follow-up recomputed with pandas)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from survlib.data import tcga

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = next(
    (
        p / "shared" / "data"
        for p in (REPO.parent, REPO.parent.parent)
        if (p / "shared" / "data").is_dir()
    ),
    REPO.parent / "shared" / "data",
)

# Headers copied from survpgc/datasets_csv/metadata/tcga_lihc.csv,
# clinical_data/tcga_lihc_clinical.csv,
# splits/5foldcv/tcga_lihc/splits_0.csv, prompt_generate/1_template/tcga_lihc_clinical_prompt_1.csv
META_HEADER = (
    ",case_id,slide_id,age,site,survival_months,survival_months_dss,survival_months_pfs,"
    "censorship,censorship_dss,censorship_pfs,is_female,oncotree_code,train"
)
CLIN_HEADER = ",case_id,stage,grade,subtype"
SPLIT_HEADER = ",train,val,test"
PROMPT_HEADER = (
    "patient_id,subtype_template,age_template,sex_template,tumorstage_template,"
    "stageedition_template,race_template"
)


def _meta_row(
    i: int, case: str, slide: str, age: int, months: float, cens: int, female: int
) -> str:
    return (
        f"{i},{case},{slide},{age},2Y,{months},{months},{months},{cens},{cens},{cens},{female},"
        f"LIHC,1"
    )


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Six patients; P1 has two slides; P6 has no clinical row; P5 has no RNA row."""
    meta = [META_HEADER]
    rows = [
        ("P1", 58, 23.8, 0, 0),
        ("P2", 51, 53.4, 0, 0),
        ("P3", 55, 63.7, 1, 1),
        ("P4", 70, 10.0, 1, 0),
        ("P5", 44, 5.5, 0, 1),
        ("P6", 66, 40.0, 1, 0),
    ]
    i = 0
    for case, age, months, cens, female in rows:
        meta.append(_meta_row(i, case, f"{case}-01Z-00-DX1.AAA.svs", age, months, cens, female))
        i += 1
    meta.append(_meta_row(i, "P1", "P1-01Z-00-DX2.BBB.svs", 58, 23.8, 0, 0))
    paths = {"metadata": tmp_path / "tcga_x.csv"}
    paths["metadata"].write_text("\n".join(meta) + "\n")
    paths["clinical"] = tmp_path / "tcga_x_clinical.csv"
    paths["clinical"].write_text(
        CLIN_HEADER + "\n0,P1,IV,N/A,LIHC\n1,P2,IIIA,N/A,LIHC\n"
        "2,P3,,N/A,LIHC\n3,P4,I,G2,LIHC\n4,P5,II,N/A,LIHC\n"
        "5,P4,I,G2,OTHER\n"
    )
    genes = ["FMO2", "APIP", "PLCE1", "SPCS2"]
    rna = pd.DataFrame(
        np.arange(20, dtype=float).reshape(5, 4),
        columns=genes,
        index=["P1", "P2", "P3", "P4", "P6"],
    )
    paths["rna"] = tmp_path / "rna_clean.csv"
    rna.to_csv(paths["rna"])
    paths["signatures"] = tmp_path / "signatures.csv"
    paths["signatures"].write_text("PW_A,PW_B\nFMO2,APIP\nPLCE1,NOTAGENE\n,FMO2\n")
    paths["prompts"] = tmp_path / "prompts.csv"
    paths["prompts"].write_text(
        PROMPT_HEADER
        + "\n"
        + "\n".join(
            f"{p},a photograph showing Hepatocellular carcinoma.,The age is {a} years old.,"
            f"This is a male.,The patient has been diagnosed with a Stage I tumor.,"
            f"This diagnosis relies on the 7th edition of the criteria.,The person is white."
            for p, a in (("P1", 58), ("P2", 51), ("P3", 55), ("P4", 70), ("P5", 44), ("P6", 66))
        )
        + "\n",
        encoding="cp1252",
    )
    return paths


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


# ------------------------------------------------------------------ the real files


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


def test_bootstrap_cindex_matches_sksurv_and_covers() -> None:
    from survlib import survival as sv

    rng = np.random.default_rng(3)
    folds = []
    for _ in range(3):
        n = 60
        risk = rng.normal(size=n)
        time = np.round(rng.exponential(np.exp(-risk)) * 10, 0) + 1  # tied times on purpose
        event = rng.integers(0, 2, n)
        risk[:5] = risk[0]  # tied risks
        folds.append((risk, time, event))
    out = sv.bootstrap_cindex(folds, n_boot=200, seed=0)
    expected = np.mean([sv.concordance(r, t, e) for r, t, e in folds])  # scikit-survival
    assert out["C-index"] == pytest.approx(expected, abs=1e-12)
    assert out["CI low"] < expected < out["CI high"]
    assert 0.5 < out["CI low"] and out["CI high"] - out["CI low"] < 0.25
    noise = [(rng.normal(size=60), t, e) for _, t, e in folds]
    ci = sv.bootstrap_cindex(noise, n_boot=200, seed=0)
    assert ci["CI low"] < 0.5 < ci["CI high"]  # no signal: the interval covers chance


def test_constant_genes_are_removed_and_reported(files, tmp_path: Path) -> None:
    rna = pd.DataFrame({"FMO2": [1.0, 2.0, 3.0], "VAMP7": [-9.9658] * 3}, index=["P1", "P2", "P3"])
    path = tmp_path / "rna_const.csv"
    rna.to_csv(path)
    cohort = tcga.read_cohort(files["metadata"], rna=path)
    assert list(cohort.expression.columns) == ["FMO2"]
    assert cohort.attrs["dropped"]["reason"].str.contains("constant gene").any()
