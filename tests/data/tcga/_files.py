"""Shared settings of the tcga tests (not a test module): the authors' CSV headers and where
the team's copy of the real tables lives."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
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
