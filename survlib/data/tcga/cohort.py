"""One real cohort from the authors' tables (:func:`read_cohort`, one row per patient, with a
report of who was dropped) and views of it (:func:`prompt_fields`, :func:`clinical_covariates`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from survlib.data.multimodal import MultimodalCohort
from survlib.data.tcga.tables import (
    PathLike,
    _read_clinical,
    _read_metadata,
    _read_prompts,
    _read_rna,
    _read_signatures,
)


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
    from survlib._core.validation import validate_survival

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
