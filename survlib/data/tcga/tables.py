"""Reading the authors' tables: their CSVs (metadata, clinical, RNA, signatures, prompts) into
per-patient frames, naming the file and the problem when one is malformed."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PathLike = str | os.PathLike[str]


def _read_csv(path: PathLike, what: str) -> pd.DataFrame:
    """Read one of the authors' CSVs (their unnamed pandas index column is dropped).

    Some of SurvPGC's prompt files are Windows-1252 encoded: UTF-8 (with or without BOM) is
    tried first, then cp1252.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what} file {str(p)!r} does not exist")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            frame = pd.read_csv(p, encoding=encoding)
            break
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
            raise ValueError(f"{what} file {str(p)!r} is not a readable CSV: {err}") from err
    else:  # pragma: no cover - cp1252 decodes nearly everything
        raise ValueError(f"{what} file {str(p)!r} is neither UTF-8 nor cp1252 text")
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed: 0")]
    return frame.drop(columns=unnamed)


def _need(frame: pd.DataFrame, columns: Sequence[str], path: PathLike, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{what} file {str(path)!r} lacks column(s) {missing}; it has "
            f"{list(frame.columns)[:12]}"
        )


def _numeric(values: pd.Series, path: PathLike, column: str) -> np.ndarray:
    num = pd.to_numeric(values, errors="coerce")
    bad = values[num.isna() & values.notna()]
    if len(bad):
        raise ValueError(
            f"metadata file {str(path)!r}: column {column!r} must be numeric; "
            f"non-numeric value(s) {bad.astype(str).unique()[:5].tolist()}"
        )
    return num.to_numpy(dtype=np.float64)


def _read_metadata(path: PathLike) -> tuple[pd.DataFrame, dict[str, list[str]], list[dict]]:
    """One row per patient from the per-slide table; the slides of each patient; drops."""
    meta = _read_csv(path, "metadata")
    _need(meta, ("case_id", "slide_id", "survival_months", "censorship"), path, "metadata")
    meta = meta[meta["case_id"].notna()].copy()
    meta["case_id"] = meta["case_id"].astype(str).str.strip()
    meta["survival_months"] = _numeric(meta["survival_months"], path, "survival_months")
    meta["censorship"] = _numeric(meta["censorship"], path, "censorship")
    known = meta["censorship"].dropna()
    if not known.isin((0.0, 1.0)).all():
        raise ValueError(
            f"metadata file {str(path)!r}: censorship must be 0/1 (1 = censored), "
            f"got {sorted(set(known.unique()) - {0.0, 1.0})[:5]}"
        )
    negative = meta.loc[meta["survival_months"] < 0, "case_id"]
    if len(negative):
        raise ValueError(
            f"metadata file {str(path)!r}: negative survival_months for "
            f"{negative.unique()[:5].tolist()}"
        )
    outcome = meta.groupby("case_id")[["survival_months", "censorship"]].nunique(dropna=False)
    conflict = outcome.index[(outcome > 1).any(axis=1)]
    if len(conflict):
        raise ValueError(
            f"metadata file {str(path)!r}: {len(conflict)} patient(s) have slides "
            f"with conflicting survival (survival_months/censorship), e.g. "
            f"{list(conflict[:5])}"
        )
    slides = {
        str(k): [str(s) for s in v if pd.notna(s)]
        for k, v in meta.groupby("case_id", sort=False)["slide_id"]
    }
    patients = meta.drop_duplicates("case_id").set_index("case_id")
    dropped = [
        {"patient": p, "modality": "metadata", "reason": "no survival time or status"}
        for p in patients.index[patients[["survival_months", "censorship"]].isna().any(axis=1)]
    ]
    patients = patients.dropna(subset=["survival_months", "censorship"])
    table = pd.DataFrame(index=patients.index)
    table.index.name = "case_id"
    table["time"] = patients["survival_months"].astype(np.float64)
    table["event"] = (1 - patients["censorship"]).astype(np.int64)
    if "age" in patients:
        table["age"] = pd.to_numeric(patients["age"], errors="coerce")
    if "is_female" in patients:
        female = pd.to_numeric(patients["is_female"], errors="coerce")
        table["sex"] = np.where(
            female.isna(), "not reported", np.where(female == 1, "female", "male")
        )
    if "oncotree_code" in patients:
        table["oncotree_code"] = patients["oncotree_code"].fillna("not reported").astype(str)
    return table, slides, dropped


def _stage_group(stage: Any) -> str:
    """``"IIIA"`` -> ``"III"``; missing -> ``"not reported"`` (``"0"`` stays ``"0"``)."""
    if stage is None or (isinstance(stage, float) and np.isnan(stage)):
        return "not reported"
    m = re.match(r"^\s*(?:stage\s*)?(IV|III|II|I|0)", str(stage), flags=re.IGNORECASE)
    return m.group(1).upper() if m else "not reported"


def _read_clinical(path: PathLike, dropped: list[dict]) -> pd.DataFrame:
    clin = _read_csv(path, "clinical")
    _need(clin, ("case_id",), path, "clinical")
    clin["case_id"] = clin["case_id"].astype(str).str.strip()
    fields = [c for c in ("stage", "grade", "subtype") if c in clin.columns]
    dup = clin[clin["case_id"].duplicated(keep=False)]
    if len(dup):
        conflicting = dup.groupby("case_id")[fields].nunique(dropna=False).gt(1).any(axis=1)
        for p in conflicting.index[conflicting]:
            dropped.append(
                {
                    "patient": p,
                    "modality": "clinical",
                    "reason": "conflicting clinical rows: kept the first (not dropped)",
                }
            )
    clin = clin.drop_duplicates("case_id").set_index("case_id")[fields]
    out = pd.DataFrame(index=clin.index)
    if "stage" in clin:
        out["stage"] = clin["stage"].fillna("not reported").astype(str)
        out["stage_group"] = clin["stage"].map(_stage_group)
    for c in ("grade", "subtype"):
        if c in clin:
            out[c] = clin[c].fillna("not reported").astype(str)
    return out


def _read_rna(path: PathLike, dropped: list[dict]) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"rna file {str(p)!r} does not exist")
    rna = pd.read_csv(p, index_col=0)
    rna.index = rna.index.astype(str).str.strip()
    non_numeric = [c for c in rna.columns if not pd.api.types.is_numeric_dtype(rna[c])]
    if non_numeric:
        raise ValueError(
            f"rna file {str(p)!r}: gene column(s) {non_numeric[:5]} are not numeric "
            f"(expected the case id in the first column, then one numeric column "
            f"per gene)"
        )
    if rna.shape[1] == 0:
        raise ValueError(f"rna file {str(p)!r} has no gene columns")
    constant = rna.columns[rna.nunique(dropna=False) <= 1]
    if len(constant):  # e.g. a gene at Xena's floor value in every sample: no information
        dropped.append(
            {
                "patient": "",
                "modality": "rna",
                "reason": f"constant gene(s) removed: {', '.join(map(str, constant))}",
            }
        )
        rna = rna.drop(columns=constant)
    twice = rna.index[rna.index.duplicated()].unique()
    for case in twice:
        dropped.append(
            {
                "patient": case,
                "modality": "rna",
                "reason": "several RNA rows: kept the first (not dropped)",
            }
        )
    rna = rna[~rna.index.duplicated()]
    return rna.astype(np.float32)


def _read_signatures(path: PathLike, genes: Sequence[str]) -> tuple[Any, dict[str, int]]:
    from survlib.data.batch import PathwayMembership

    table = _read_csv(path, "signatures")
    available = set(genes)
    sets, info = {}, {"pathways in file": 0, "pathway genes missing from rna": 0}
    missing: set[str] = set()
    for column in table.columns:
        members = {str(g).strip() for g in table[column].dropna() if str(g).strip()}
        if not members:
            continue
        info["pathways in file"] += 1
        missing |= members - available
        kept = sorted(members & available)
        if kept:
            sets[str(column)] = kept
    info["pathway genes missing from rna"] = len(missing)
    if not sets:
        raise ValueError(
            f"signatures file {str(path)!r}: no pathway shares a gene with the RNA table"
        )
    return PathwayMembership.from_sets(sets), info


def _read_prompts(path: PathLike) -> pd.DataFrame:
    prompts = _read_csv(path, "prompts")
    _need(prompts, ("patient_id",), path, "prompts")
    prompts["patient_id"] = prompts["patient_id"].astype(str).str.strip()
    prompts = prompts.drop_duplicates("patient_id").set_index("patient_id")
    fields = [c for c in prompts.columns if c != "patient_id"]
    if not fields:
        raise ValueError(f"prompts file {str(path)!r} has no prompt columns")
    renamed = {c: "prompt_" + re.sub(r"_template$", "", str(c)) for c in fields}
    return prompts[fields].rename(columns=renamed).astype("string").fillna("")
