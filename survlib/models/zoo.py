""":data:`MODEL_ZOO`, the named constructors of the book's tables (the calling convention of the
models they build is in :mod:`survlib.models.calling`)."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from survlib.models.blocks import PathwayMembership
from survlib.models.fusion import (
    MCAT,
    PORPOISE,
    ClinicalConcatFusion,
    ClinicalLateFusion,
    ClinicalMLP,
    ClinicalProjectionFusion,
    ClinicalPromptMLP,
    GenomicMLP,
    SurvPath,
    SurvPC,
    SurvPGC,
)
from survlib.models.mil import ABMIL, DSMIL, MeanMIL, TransMIL

__all__ = ["MODEL_ZOO"]


def _need_pathways(pathways: PathwayMembership | None, name: str) -> PathwayMembership:
    if pathways is None:
        raise ValueError(f"MODEL_ZOO[{name!r}] needs pathways (a PathwayMembership)")
    return pathways


def _constructor(name: str, build: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """The registry's constructor ``build_<name>``: the shared keywords, checked, to ``build``."""

    def ctor(
        *,
        d_patch: int | None,
        pathways: PathwayMembership | None,
        n_genes: int | None,
        d_text: int | None,
        n_clinical: int | None,
        n_bins: int,
        n_fields: int = 6,
        hidden: int = 256,
        dropout: float | None = None,
    ) -> nn.Module:
        if pathways is not None and n_genes is not None and pathways.n_genes != n_genes:
            raise ValueError(f"n_genes={n_genes} but pathways cover {pathways.n_genes} genes")
        kw = {} if dropout is None else {"dropout": dropout}
        return build(
            d_patch=d_patch,
            pathways=pathways,
            n_genes=n_genes,
            d_text=d_text,
            n_clinical=n_clinical,
            n_bins=n_bins,
            n_fields=n_fields,
            h=hidden,
            kw=kw,
            name=name,
        )

    ctor.__name__ = ctor.__qualname__ = f"build_{name}"
    ctor.__doc__ = f"Build {name!r} (see survlib.models._zoo for the keywords)."
    return ctor


def _genes_of(pathways: PathwayMembership | None, n_genes: int | None, name: str) -> int:
    """The model's number of genes: ``n_genes``, else the pathways' genes."""
    if n_genes is not None:
        return n_genes
    if pathways is not None:
        return pathways.n_genes
    raise ValueError(f"MODEL_ZOO[{name!r}] needs n_genes")


#: How each model is built: ``a`` holds its constructor's keywords (``h`` = ``hidden``, ``kw`` =
#: the dropout keyword or nothing, ``name`` = the model's name; see :func:`_constructor`).
_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    # --- unimodal: clinic (prompt embeddings, as the paper), genomics, pathology
    "MLP (clinic)": lambda **a: ClinicalPromptMLP(
        a["n_fields"], a["d_text"], a["n_bins"], hidden=(a["h"],), **a["kw"]
    ),
    "SNN (clinic)": lambda **a: ClinicalPromptMLP(
        a["n_fields"], a["d_text"], a["n_bins"], hidden=(a["h"],), activation="selu", **a["kw"]
    ),
    "MLP (clinic covariates)": lambda **a: ClinicalMLP(a["n_clinical"], a["n_bins"], **a["kw"]),
    "MLP (genomic)": lambda **a: GenomicMLP(
        _genes_of(a["pathways"], a["n_genes"], a["name"]),
        a["n_bins"],
        hidden=(a["h"], a["h"]),
        **a["kw"],
    ),
    "SNN (genomic)": lambda **a: GenomicMLP(
        _genes_of(a["pathways"], a["n_genes"], a["name"]),
        a["n_bins"],
        hidden=(a["h"], a["h"]),
        activation="selu",
        **a["kw"],
    ),
    "MLP (pathology)": lambda **a: MeanMIL(a["d_patch"], a["n_bins"], hidden=(a["h"],), **a["kw"]),
    "ABMIL": lambda **a: ABMIL(a["d_patch"], a["n_bins"], d_hidden=a["h"], **a["kw"]),
    "TransMIL": lambda **a: TransMIL(a["d_patch"], a["n_bins"], d=a["h"], **a["kw"]),
    "DSMIL": lambda **a: DSMIL(a["d_patch"], a["n_bins"], d_hidden=a["h"], **a["kw"]),
    # --- pathology + genomics
    "PORPOISE": lambda **a: PORPOISE(
        a["d_patch"],
        _genes_of(a["pathways"], a["n_genes"], a["name"]),
        a["n_bins"],
        d=a["h"],
        **a["kw"],
    ),
    "MCAT": lambda **a: MCAT(
        a["d_patch"], _need_pathways(a["pathways"], a["name"]), a["n_bins"], d=a["h"], **a["kw"]
    ),
    "SurvPath": lambda **a: SurvPath(
        a["d_patch"], _need_pathways(a["pathways"], a["name"]), a["n_bins"], d=a["h"], **a["kw"]
    ),
    # --- pathology + genomics + clinic
    "SurvPGC": lambda **a: SurvPGC(
        a["d_patch"],
        _need_pathways(a["pathways"], a["name"]),
        a["d_text"],
        a["n_bins"],
        d=a["h"],
        **a["kw"],
    ),
    # --- clinic + pathology (Table 4)
    "SurvPGC (approach a)": lambda **a: ClinicalLateFusion(
        a["d_patch"], a["n_clinical"], a["n_bins"], d=a["h"], **a["kw"]
    ),
    "SurvPGC (approach b)": lambda **a: ClinicalConcatFusion(
        a["d_patch"], a["n_clinical"], a["n_bins"], d=a["h"], **a["kw"]
    ),
    "SurvPGC (approach c)": lambda **a: ClinicalProjectionFusion(
        a["d_patch"], a["n_clinical"], a["n_bins"], d=a["h"], **a["kw"]
    ),
    "SurvPC": lambda **a: SurvPC(a["d_patch"], a["d_text"], a["n_bins"], d=a["h"], **a["kw"]),
}


def _zoo() -> dict[str, Callable[..., nn.Module]]:
    """Build the registry; every constructor takes the same keywords:

    ``d_patch, pathways, n_genes, d_text, n_clinical, n_bins`` (required; pass ``None`` for
    what a model does not use) and optional ``n_fields=6`` (clinical prompt fields),
    ``hidden=256`` (main width), ``dropout=None`` (each model's default when None).
    """
    return {name: _constructor(name, build) for name, build in _BUILDERS.items()}


#: Named constructors of the book's models (see :func:`_zoo` for the shared keywords).
#: Table 4's approaches a/b/c and SurvPC use clinic + pathology only, as in the paper.
MODEL_ZOO: dict[str, Callable[..., nn.Module]] = _zoo()
