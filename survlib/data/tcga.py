"""Real TCGA cohorts in the SurvPath / SurvPGC file formats: patients, modalities, splits, bags.

The SurvPath (Jaume et al., CVPR 2024) and SurvPGC (Hou et al., npj Digit. Med. 2025)
repositories ship the same kinds of tables (the manifest entries ``survpgc_<cohort>_*``,
``survpath_<cohort>_rna``, ``survpath_combine_signatures``):

* ``metadata`` — one row **per slide**: ``case_id``, ``slide_id``, ``age``,
  ``survival_months``, ``censorship`` (1 = censored), ``is_female``, ``oncotree_code``, ...;
* ``clinical`` — ``case_id``, ``stage``, ``grade``, ``subtype`` (a few patients twice);
* ``rna`` — one row per sample, first column the case id, genes as columns;
* ``signatures`` — one column per pathway, member genes down the rows;
* ``prompts`` — SurvPGC's sentences: ``patient_id`` then one column per clinical field;
* ``splits_<k>`` — columns ``train``, ``val`` (and in SurvPGC's files ``test``, equal to ``val``).

:func:`read_cohort` turns them into one :class:`~survlib.data.multimodal.MultimodalCohort`
with one row per patient (``event = 1 - censorship``, times in months), keeping only patients
present in every modality given and recording who was dropped and why in
``cohort.attrs["dropped"]``. :func:`read_splits` turns the split files into the book's
:class:`~survlib.train.Split` folds, under the published protocol (selection on the test fold)
or honestly (validation carved from the training fold). :func:`attach_slide_features` gives a
cohort its bags from a folder of CLAM/TRIDENT-style ``.h5`` feature files. :func:`load_cohort`
does all of it through :func:`~survlib.data.fetch.fetch`.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survlib.data.multimodal import MultimodalCohort
from survlib.data.slide_features import attach_slide_features

__all__ = [
    "RNA_COHORTS",
    "SOURCES",
    "TEMPLATE_COUNTS",
    "attach_slide_features",
    "clinical_covariates",
    "cohort_entries",
    "describe_splits",
    "load_cohort",
    "load_splits",
    "missing_entries",
    "prompt_fields",
    "read_cohort",
    "read_splits",
    "split_files",
]

#: Cohorts each source's manifest entries cover (SurvPGC: the paper's three; SurvPath: the two
#: with RNA).
SOURCES: dict[str, tuple[str, ...]] = {
    "survpgc": ("lihc", "brca", "coadread"),
    "survpath": ("stad", "coadread"),
}
#: Template counts of SurvPGC's prompt files (its Table 5).
TEMPLATE_COUNTS: tuple[int, ...] = (1, 3, 5, 10, 20)
#: RNA entries by cohort (SurvPath's Xena tables; the SurvPGC repository ships none).
_RNA_ENTRIES = {"coadread": "survpath_coadread_rna", "stad": "survpath_stad_rna"}
_SIGNATURES_ENTRY = "survpath_combine_signatures"
#: Cohorts with an RNA table in the manifest.
RNA_COHORTS: tuple[str, ...] = tuple(_RNA_ENTRIES)
PathLike = str | os.PathLike[str]


# ============================================================================ reading helpers


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


def prompt_fields(cohort: MultimodalCohort) -> list[str]:
    """The clinical columns holding prompt sentences (``prompt_<field>``)."""
    return [c for c in cohort.clinical.columns if str(c).startswith("prompt_")]


def clinical_covariates(
    cohort: MultimodalCohort,
    fields: Sequence[str] = ("age", "sex", "stage_group", "subtype"),
) -> MultimodalCohort:
    """The cohort with only ``time``, ``event`` and the covariate ``fields`` present in its
    clinical table (no prompt text), missing ages set to the cohort median: the input of a
    Cox model on clinical covariates."""
    keep = [f for f in fields if f in cohort.clinical.columns]
    clinical = cohort.clinical[["time", "event", *keep]].copy()
    if "age" in clinical:
        clinical["age"] = clinical["age"].fillna(clinical["age"].median())
    return replace(cohort, clinical=clinical)


# ============================================================================ read_cohort


def read_cohort(
    metadata: PathLike,
    clinical: PathLike | None = None,
    rna: PathLike | None = None,
    signatures: PathLike | None = None,
    prompts: PathLike | None = None,
    name: str | None = None,
) -> MultimodalCohort:
    """One real cohort from the SurvPath/SurvPGC tables, one row per patient.

    Patients are those of ``metadata`` (several slides of a patient collapse to one row; their
    survival must agree). Each further table given is a modality; only patients present in all
    of them are kept, and ``attrs["dropped"]`` lists everyone left out (``patient``,
    ``modality``, ``reason``), together with notes on kept patients whose tables held
    duplicates. The clinical table gets ``time`` (months), ``event`` (``1 - censorship``),
    ``age``, ``sex``, ``oncotree_code`` and, from ``clinical``, ``stage``, ``stage_group``
    (I-IV), ``grade``, ``subtype``; ``prompts`` adds one text column ``prompt_<field>`` per
    clinical field. Expression is the RNA table's genes, or with ``signatures`` the pathway
    genes present in it, in :class:`PathwayMembership` order (``cohort.pathways``); without
    ``rna`` it has no columns.

    ``attrs``: ``simulated=False``, ``name``, ``slides`` (patient -> slide ids), ``files``,
    ``dropped``, ``signature_info``.

    Raises:
        FileNotFoundError: a file does not exist.
        ValueError: a file lacks a required column, has non-numeric times, conflicting
            survival for one patient, RNA that shares no patient with the metadata, ...; the
            message names the file and the problem.
    """
    from survlib.data.validation import validate_survival

    table, slides, dropped = _read_metadata(metadata)
    validate_survival(
        table["time"].to_numpy(), table["event"].to_numpy(), name=f"metadata file {str(metadata)!r}"
    )
    keep = pd.Index(table.index)
    clin = _read_clinical(clinical, dropped) if clinical is not None else None
    expr = _read_rna(rna, dropped) if rna is not None else None
    prm = _read_prompts(prompts) if prompts is not None else None
    if expr is not None and not keep.isin(expr.index).any():
        raise ValueError(
            f"rna file {str(rna)!r} shares no patient with metadata file "
            f"{str(metadata)!r} (e.g. rna ids {list(expr.index[:3])}, metadata ids "
            f"{list(keep[:3])})"
        )
    for modality, frame in (("clinical", clin), ("rna", expr), ("prompts", prm)):
        if frame is None:
            continue
        absent = keep[~keep.isin(frame.index)]
        dropped += [
            {"patient": p, "modality": modality, "reason": f"no {modality} row"} for p in absent
        ]
        keep = keep[keep.isin(frame.index)]
    if len(keep) == 0:
        raise ValueError(
            f"read_cohort: no patient of {str(metadata)!r} is present in every table given"
        )
    table = table.loc[keep].copy()
    if clin is not None:
        table = table.join(clin.loc[keep])
    if prm is not None:
        table = table.join(prm.loc[keep])
    pathways, info = None, {}
    if signatures is not None:
        if expr is None:
            raise ValueError(
                "read_cohort: signatures need an rna table (the pathways select its genes)"
            )
        pathways, info = _read_signatures(signatures, list(expr.columns))
        expr = expr[pathways.genes]
    expression = expr.loc[keep] if expr is not None else pd.DataFrame(index=keep, dtype=np.float32)
    label = name or Path(metadata).stem
    table.attrs["simulated"] = False
    expression.attrs["simulated"] = False
    files = {
        k: str(v)
        for k, v in (
            ("metadata", metadata),
            ("clinical", clinical),
            ("rna", rna),
            ("signatures", signatures),
            ("prompts", prompts),
        )
        if v
    }
    attrs = {
        "simulated": False,
        "name": label,
        "slides": {p: slides[p] for p in keep},
        "files": files,
        "dropped": pd.DataFrame(dropped, columns=["patient", "modality", "reason"]),
        "signature_info": info,
    }
    return MultimodalCohort(
        clinical=table, expression=expression, pathways=pathways, bags=None, attrs=attrs
    )


# ============================================================================ splits


def describe_splits(paths: Sequence[PathLike]) -> pd.DataFrame:
    """Per split file: fold, ``train``/``val``/``test`` sizes and whether ``val == test``."""
    rows = []
    for k, path in enumerate(paths):
        frame = _read_csv(path, "splits")
        _need(frame, ("train", "val"), path, "splits")
        sets = {
            c: set(frame[c].dropna().astype(str)) for c in ("train", "val", "test") if c in frame
        }
        rows.append(
            {
                "fold": k,
                "train": len(sets["train"]),
                "val": len(sets["val"]),
                "test": len(sets["test"]) if "test" in sets else None,
                "val == test": "test" in sets and sets["val"] == sets["test"],
            }
        )
    return pd.DataFrame(rows)


def read_splits(
    paths: Sequence[PathLike],
    patients: Sequence[str] | pd.Index,
    protocol: str = "honest",
    event: Sequence[int] | np.ndarray | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> list[Any]:
    """The authors' split CSVs as :class:`~survlib.train.Split` folds over ``patients``.

    The held-out fold of file ``k`` is its ``test`` column, or ``val`` when there is none
    (SurvPath's files). In SurvPGC's files ``val == test`` (see :func:`describe_splits`): the
    released code selects epochs on the fold it reports. Two protocols:

    * ``"published"``: train on the whole ``train`` column, validation = the held-out fold
      (selection on the test fold, as released);
    * ``"honest"``: a validation split of ``val_fraction`` carved from the ``train`` column
      (stratified by ``event`` when given, seeded by ``seed`` and the fold), the held-out fold
      touched once.

    Ids in the files that are not in ``patients`` (dropped by :func:`read_cohort`) are left out.

    Raises:
        ValueError: unknown protocol, a file without ``train``/``val``, a fold whose train and
            held-out ids overlap, or a fold with no patient left.
    """
    from sklearn.model_selection import train_test_split

    from survlib.train import Split

    if protocol not in ("honest", "published"):
        raise ValueError(f"read_splits: protocol must be 'honest' or 'published', got {protocol!r}")
    if not 0.0 < float(val_fraction) < 1.0 and protocol == "honest":
        raise ValueError(f"read_splits: val_fraction must lie in (0, 1), got {val_fraction}")
    position = {str(p): i for i, p in enumerate(patients)}
    ev = None if event is None else np.asarray(event, dtype=np.int64)
    out = []
    for k, path in enumerate(paths):
        frame = _read_csv(path, "splits")
        _need(frame, ("train", "val"), path, "splits")
        held_col = "test" if "test" in frame else "val"
        train_ids = set(frame["train"].dropna().astype(str))
        held_ids = set(frame[held_col].dropna().astype(str))
        overlap = train_ids & held_ids
        if overlap:
            raise ValueError(
                f"splits file {str(path)!r}: {len(overlap)} patient(s) are in both "
                f"train and {held_col}, e.g. {sorted(overlap)[:3]}"
            )
        train = np.array(sorted(position[p] for p in train_ids if p in position), dtype=np.int64)
        test = np.array(sorted(position[p] for p in held_ids if p in position), dtype=np.int64)
        if train.size == 0 or test.size == 0:
            raise ValueError(
                f"splits file {str(path)!r}: no patient of the cohort is left in "
                f"train ({train.size}) or {held_col} ({test.size})"
            )
        if protocol == "published":
            out.append(Split(fold=k, train=train, val=test.copy(), test=test))
            continue
        strat = None if ev is None else ev[train]
        tr, va = train_test_split(
            train, test_size=float(val_fraction), stratify=strat, random_state=int(seed) * 1000 + k
        )
        out.append(Split(fold=k, train=np.sort(tr), val=np.sort(va), test=test))
    return out


# ============================================================================ through fetch


def cohort_entries(
    cohort: str, source: str = "survpgc", n_templates: int | None = 1, rna: bool = True
) -> list[str]:
    """The manifest entries :func:`load_cohort` and :func:`load_splits` read for a cohort."""
    cohort = _check_cohort(cohort, source)
    names = [f"{source}_{cohort}_metadata", f"{source}_{cohort}_clinical"]
    names += [f"{source}_{cohort}_splits_{k}" for k in range(5)]
    if n_templates is not None and source == "survpgc":
        names.append(f"{source}_{cohort}_prompt_{int(n_templates)}")
    if rna and cohort in _RNA_ENTRIES:
        names += [_RNA_ENTRIES[cohort], _SIGNATURES_ENTRY]
    return names


def missing_entries(patterns: Sequence[str], manifest: PathLike | None = None) -> list[str]:
    """Manifest entries matching ``patterns`` (names or fnmatch patterns) not in the cache.

    Never downloads; a pattern matching no entry is returned as missing itself.
    """
    from survlib.data.fetch import cached_path, load_manifest

    names = list(load_manifest(manifest))
    missing = []
    for pattern in patterns:
        hits = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        if not hits:
            missing.append(pattern)
        missing += [n for n in hits if cached_path(n, manifest) is None and n not in missing]
    return missing


def _check_cohort(cohort: str, source: str) -> str:
    if source not in SOURCES:
        raise ValueError(
            f"source must be one of {sorted(SOURCES)}, got {source!r} (the "
            f"manifest lists the SurvPGC tables; read other files with "
            f"read_cohort)"
        )
    c = str(cohort).lower().removeprefix("tcga-").removeprefix("tcga_")
    if c not in SOURCES[source]:
        raise ValueError(
            f"cohort must be one of {SOURCES[source]} for source={source!r}, got {cohort!r}"
        )
    return c


def load_cohort(
    cohort: str,
    source: str = "survpgc",
    n_templates: int | None = 1,
    rna: bool = True,
    manifest: PathLike | None = None,
    progress: bool = False,
) -> MultimodalCohort:
    """:func:`read_cohort` on the manifest's files (fetched, or imported with
    ``survlib fetch --import``): metadata, clinical, the ``n_templates`` prompts
    (``None``: none; SurvPGC only) and, where the cohort has them and ``rna``, SurvPath's RNA
    and pathways.
    """
    from survlib.data.fetch import fetch

    c = _check_cohort(cohort, source)
    if source != "survpgc":
        n_templates = None  # only the SurvPGC repository ships prompts

    def get(n: str) -> Any:
        return fetch(n, manifest=manifest, progress=progress)

    with_rna = rna and c in _RNA_ENTRIES
    return read_cohort(
        get(f"{source}_{c}_metadata"),
        clinical=get(f"{source}_{c}_clinical"),
        rna=get(_RNA_ENTRIES[c]) if with_rna else None,
        signatures=get(_SIGNATURES_ENTRY) if with_rna else None,
        prompts=None if n_templates is None else get(f"{source}_{c}_prompt_{int(n_templates)}"),
        name=f"TCGA-{c.upper()}",
    )


def split_files(
    cohort: str, source: str = "survpgc", manifest: PathLike | None = None, progress: bool = False
) -> list[Path]:
    """The authors' five split files of ``cohort`` (e.g. ``"lihc"``), through fetch."""
    from survlib.data.fetch import fetch

    c = _check_cohort(cohort, source)
    return [
        fetch(f"{source}_{c}_splits_{k}", manifest=manifest, progress=progress) for k in range(5)
    ]


def load_splits(
    cohort: MultimodalCohort,
    source: str = "survpgc",
    protocol: str = "honest",
    val_fraction: float = 0.2,
    seed: int = 0,
    manifest: PathLike | None = None,
    progress: bool = False,
) -> list[Any]:
    """:func:`read_splits` on the authors' five split files of ``cohort`` (a loaded cohort)."""
    paths = split_files(str(cohort.attrs.get("name", "")), source, manifest, progress)
    return read_splits(
        paths,
        cohort.clinical.index,
        protocol=protocol,
        event=cohort.event,
        val_fraction=val_fraction,
        seed=seed,
    )


# The cache check of chapters 5 and 6: can a chapter's real-data section run?
__all__ += ["RealDataCheck", "check_real_data"]


class RealDataCheck:
    """What :func:`check_real_data` found: ``cohorts`` (the chosen ones, lower case),
    ``missing`` (manifest entries, or patterns matching none, not in the data cache),
    ``available`` (a cohort chosen and nothing missing) and ``message`` (Markdown for the reader
    when the section cannot run: the cache folder, the missing entries and how to fetch or import
    them; ``""`` when available)."""

    def __init__(self, cohorts: list[str], missing: list[str], message: str) -> None:
        self.cohorts, self.missing, self.message = cohorts, missing, message
        self.available = bool(cohorts) and not missing


def check_real_data(
    cohorts: str | Sequence[str],
    entries: dict[str, Sequence[str]],
    extra: Sequence[str] = (),
    manifest: PathLike | None = None,
) -> RealDataCheck:
    """Whether the real TCGA tables of a chapter's section are in the data cache (never downloads).

    Args:
        cohorts: the cohorts to run, a comma-separated string (a notebook parameter such as
            ``"lihc,brca"``) or a sequence; case and blanks are ignored.
        entries: cohort -> the manifest entries it reads (names or fnmatch patterns).
        extra: entries every cohort needs (e.g. the prompt templates).
        manifest: the data manifest (default: the repository's ``data_manifest.yaml``).

    Raises:
        ValueError: a chosen cohort is not a key of ``entries``.
    """
    from survlib.data.fetch import cache_dir

    parts = cohorts.split(",") if isinstance(cohorts, str) else list(cohorts)
    chosen = [c.strip().lower() for c in parts if c.strip()]
    unknown = sorted(set(chosen) - set(entries))
    if unknown:
        raise ValueError(
            f"real_cohorts: unknown cohort(s) {unknown}; choose from {sorted(entries)}"
        )
    missing = missing_entries([p for c in chosen for p in entries[c]] + list(extra), manifest)
    message = (
        ""
        if chosen and not missing
        else (
            f"**The real TCGA tables are not in the data cache** (`{cache_dir()}`), so the rest "
            f"of this section is skipped. Missing manifest entries: "
            f"{', '.join(f'`{m}`' for m in missing) or '(no cohort chosen)'}. With network, "
            "`survlib fetch NAME` downloads an entry and checks its sha256. Without network, "
            "put copies of the authors' repositories' files (their commits are in "
            "`data_manifest.yaml`) in a folder and run `survlib fetch --import FOLDER`: each "
            "file is matched to its entry by its hash. Then run this chapter again."
        )
    )
    return RealDataCheck(chosen, missing, message)
